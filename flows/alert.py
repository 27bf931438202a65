"""Alert subflow: one run per village whose level changed."""

from datetime import datetime

from prefect import flow

from tasks.alerts import record_and_queue_alert


@flow(name="alert-village", flow_run_name="alert-{change[village_id]}")
def alert_village(change: dict, cycle_at: datetime) -> dict:
    """Record the village's alert and queue its messages on the console channel."""
    return record_and_queue_alert(change, cycle_at)
