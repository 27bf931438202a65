"""The five-minute nowcast: ingest, validate, predict, decide, warn, record.

Read top to bottom, this is the order of operations for the on-call
hydrologist. Every step is a task over the database; a failed step fails the
run, and a retried run stores nothing twice.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.utilities.asyncutils import run_coro_as_sync

from flows.alert import alert_villages
from tasks import cycle as steps
from tasks import storm as storm_steps
from tasks.alerts import send_queued_messages


@contextmanager
def _timed(stage_seconds: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        stage_seconds[stage] = round(time.perf_counter() - started, 3)


def cycle_time(at: str | None) -> datetime:
    """Parse the cycle time ``at`` (ISO 8601 with offset), or take now, in UTC."""
    if at is None:
        return datetime.now(UTC).replace(microsecond=0)
    parsed = datetime.fromisoformat(at)
    if parsed.tzinfo is None:
        raise ValueError(
            f"time zone missing in cycle time {at!r}; "
            "write it with an offset, e.g. 2026-08-01T12:00+05:30"
        )
    return parsed.astimezone(UTC)


@flow(name="nowcast", log_prints=True)
def nowcast(
    at: str | None = None,
    replay_dir: str | None = None,
    stations_file: str | None = None,
) -> dict:
    """Run one cycle as of ``at`` (default now) on the live site or a replay."""
    cycle_at = cycle_time(at)
    mode = "replay" if replay_dir else "live"
    stage_seconds: dict[str, float] = {}
    cycle_id = steps.open_cycle(cycle_at, mode)

    try:
        with _timed(stage_seconds, "stations"):
            steps.refresh_stations(replay_dir, stations_file)
        with _timed(stage_seconds, "ingest"):
            ingest = steps.ingest_gauges(cycle_id, cycle_at, replay_dir, stations_file)
        with _timed(stage_seconds, "cameras"):
            camera = steps.ingest_cameras(cycle_id, cycle_at, replay_dir)
        with _timed(stage_seconds, "satellite"):
            scenes = steps.ingest_scenes(cycle_at)
        with _timed(stage_seconds, "trust"):
            steps.update_gauge_trust(cycle_id, cycle_at)
        with _timed(stage_seconds, "predict"):
            steps.forecast_gauges(cycle_at)
        with _timed(stage_seconds, "levels"):
            assessment = steps.assess_villages(cycle_at)
        with _timed(stage_seconds, "alerts"):
            sent = run_coro_as_sync(alert_villages(assessment["changes"], cycle_at))
        with _timed(stage_seconds, "storm"):
            storm_mode = storm_steps.review_storm_mode(cycle_at)
            if storm_mode["changed"] and storm_mode["active"]:
                storm_steps.alert_every_channel(cycle_at)
            escalation = storm_steps.escalate(cycle_at)
        with _timed(stage_seconds, "send"):
            drained = send_queued_messages()
    except BaseException as error:
        steps.close_cycle(cycle_id, {"error": str(error)}, "failed")
        raise

    summary = {
        "cycle_id": cycle_id,
        "cycle_at": cycle_at.isoformat(),
        "mode": mode,
        "gauges_read": ingest["gauges_read"],
        "observations_stored": ingest["observations_stored"],
        "quarantined_by_rule": ingest["quarantined_by_rule"],
        "stations_registered_without_reference": ingest["stations_registered"],
        "source_failures": ingest["failures"] + camera["failures"] + scenes["failures"],
        "camera_readings": camera["readings"],
        "camera_refused": camera["refused"],
        "scenes_ingested": scenes["scenes_ingested"],
        "above_warning_known": ingest["above_warning_known"],
        "villages_by_level": assessment["villages_by_level"],
        "villages_unmonitored": assessment["villages_unmonitored"],
        "villages_at_risk_unmonitored": len(assessment["at_risk_unmonitored"]),
        "villages_degraded": assessment["villages_degraded"],
        "villages_by_source": assessment["villages_by_source"],
        "alerts_queued": sum(1 for s in sent if s["alert_created"]),
        "reminders_queued": assessment["reminders"],
        "level_moves_without_message": assessment["level_moves_without_message"],
        "outbox_queued": sum(s["outbox_queued"] for s in sent),
        "outbox_sent": sum(s["outbox_sent"] for s in sent) + drained["sent"],
        "outbox_failed": sum(s["outbox_failed"] for s in sent) + drained["failed"],
        "escalation_queued": escalation["queued"],
        "villages_at_emergency": storm_mode["villages_at_emergency"],
        "storm_mode": {
            "active": storm_mode["active"],
            "since": storm_mode["since"],
            "changed": storm_mode["changed"],
        },
        "stage_seconds": {
            **ingest["stage_seconds"],
            **scenes["stage_seconds"],
            **assessment["stage_seconds"],
            **stage_seconds,
        },
    }
    steps.close_cycle(cycle_id, summary, "completed")
    create_markdown_artifact(key="nowcast-summary", markdown=_summary_markdown(summary))
    return summary


def _summary_markdown(summary: dict) -> str:
    levels = ", ".join(f"{k} {v}" for k, v in summary["villages_by_level"].items())
    return (
        f"## Nowcast {summary['cycle_at']} ({summary['mode']})\n\n"
        f"- gauges read: {summary['gauges_read']}\n"
        f"- observations stored: {summary['observations_stored']}\n"
        f"- quarantined: {summary['quarantined_by_rule']}\n"
        f"- villages: {levels}; unmonitored {summary['villages_unmonitored']}\n"
        f"- degraded (fallback sources): {summary['villages_degraded']}, "
        f"by source {summary['villages_by_source']}\n"
        f"- satellite scenes ingested: {summary['scenes_ingested']}\n"
        f"- alerts: {summary['alerts_queued']}, messages: {summary['outbox_queued']}\n"
        f"- escalation messages: {summary['escalation_queued']}\n"
        f"- Storm Mode: {'on' if summary['storm_mode']['active'] else 'off'}\n"
    )
