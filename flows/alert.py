"""Alert subflow: one run per village whose level changed."""

from datetime import datetime

from prefect import flow

from tasks.alerts import record_and_queue_alert, send_village_messages


@flow(name="alert-village", flow_run_name="alert-{change[village_id]}")
async def alert_village(change: dict, cycle_at: datetime) -> dict:
    """Record the village's alert, queue its messages, then send them.

    The subflow is async because Prefect's sync engine (3.9) waits up to a
    second for its heartbeat thread when each subflow ends. Over hundreds of
    villages that adds minutes, and the async engine does not wait.
    """
    queued = record_and_queue_alert(change, cycle_at)
    sent = await send_village_messages(change["village_id"])
    return {**queued, "outbox_sent": sent["sent"], "outbox_failed": sent["failed"]}


async def alert_villages(changes: list[dict], cycle_at: datetime) -> list[dict]:
    """Run one alert subflow per changed village, one after another.

    Sequential on purpose: measured on 2 cores with the local Prefect API,
    concurrent subflows were slower (0.22 s each at 3 at a time, 1.6 s at 32)
    than one at a time (0.14 s).
    """
    return [await alert_village(change, cycle_at) for change in changes]
