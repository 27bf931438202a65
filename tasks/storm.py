"""Tasks of Storm Mode and escalation, shared by the nowcast and storm flows."""

from dataclasses import asdict
from datetime import datetime, timedelta

from prefect import task

from argus import storm
from argus.escalation import EscalationPolicy
from argus.escalation import escalate as escalate_alerts
from argus.storage import alerts as alert_store
from argus.storage.db import session_scope
from tasks.common import settings_and_engine
from tasks.cycle import DATABASE_RETRIES


@task(**DATABASE_RETRIES)
def read_storm_mode() -> dict:
    """Storm Mode now: active, since, reason, actor."""
    _, engine = settings_and_engine()
    with session_scope(engine) as session:
        return storm.storm_status(session)


@task(**DATABASE_RETRIES)
def review_storm_mode(now: datetime) -> dict:
    """Turn Storm Mode on or off from the stored village levels."""
    settings, engine = settings_and_engine()
    with session_scope(engine) as session:
        event = storm.review_storm_mode(
            session, now=now, policy=storm.StormPolicy.from_settings(settings)
        )
        counts = alert_store.level_counts(session)
        status = storm.storm_status(session)
    return {
        **status,
        "changed": event is not None,
        "villages_at_emergency": counts.get("EMERGENCY", 0),
    }


@task(**DATABASE_RETRIES)
def escalate(now: datetime) -> dict:
    """Queue the escalation steps due at ``now``."""
    settings, engine = settings_and_engine()
    with session_scope(engine) as session:
        report = escalate_alerts(
            session, now=now, policy=EscalationPolicy.from_settings(settings)
        )
    return {
        "alerts_checked": report.alerts_checked,
        "recipients_waiting": report.recipients_waiting,
        "queued": report.queued,
        "queued_by_step": {str(k): v for k, v in report.queued_by_step.items()},
    }


@task(**DATABASE_RETRIES)
def storm_reminders(now: datetime) -> list[dict]:
    """Reminders due at ``now`` at Storm Mode's shorter interval."""
    settings, engine = settings_and_engine()
    interval_s = min(settings.reminder_interval_s, settings.storm_reminder_interval_s)
    with session_scope(engine) as session:
        reminders = alert_store.due_reminders(
            session, at=now, interval=timedelta(seconds=interval_s)
        )
    return [asdict(reminder) for reminder in reminders]


@task(**DATABASE_RETRIES)
def alert_every_channel(now: datetime) -> int:
    """Queue the latest alerts of villages at WARNING or above on every channel."""
    _, engine = settings_and_engine()
    with session_scope(engine) as session:
        return storm.alert_every_channel(session, now=now)
