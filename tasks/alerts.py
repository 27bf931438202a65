"""Task that records one village's alert and queues its messages."""

from datetime import datetime

from prefect import task
from prefect.runtime import flow_run

from argus.alerting import alert_village
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
