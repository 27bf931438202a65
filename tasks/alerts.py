"""Tasks of the alert subflow: record the alert and queue, then send."""

from datetime import datetime

from prefect import get_run_logger, task
from prefect.runtime import flow_run

from argus.alerting import alert_village
from argus.sending import send_outbox, send_outbox_sync
from argus.storage.alerts import LevelChange
from tasks.common import retry_if_transient, settings_and_engine


@task(
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def record_and_queue_alert(change: dict, cycle_at: datetime) -> dict:
    """Store the alert and its outbox rows; idempotent, so safe to retry."""
    _, engine = settings_and_engine()
    return alert_village(
        engine, LevelChange(**change), cycle_at=cycle_at, flow_run_id=flow_run.id
    )


@task(
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
async def send_village_messages(village_id: str) -> dict:
    """Send the village's queued messages, all in this one task.

    Safe to retry: rows are claimed before each provider call and rows of an
    interrupted try are looked up at the provider before they are sent again.
    """
    settings, engine = settings_and_engine()
    report = await send_outbox(engine, settings, village_id=village_id)
    get_run_logger().info(
        "village %s: %d messages sent, %d failed, %d expired, %d unconfirmed",
        village_id,
        report.sent,
        report.failed,
        report.expired,
        report.left_sending,
    )
    return report.as_dict()


@task(
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
)
def send_queued_messages() -> dict:
    """Send every message still queued: escalations, Storm Mode's extra channels,
    and rows an earlier cycle left queued. Safe to retry, like the village task.
    """
    settings, engine = settings_and_engine()
    report = send_outbox_sync(engine, settings)
    get_run_logger().info(
        "outbox drain: %d messages sent, %d failed, %d expired, %d unconfirmed",
        report.sent,
        report.failed,
        report.expired,
        report.left_sending,
    )
    return report.as_dict()
