"""Storm Mode's lane: every minute on the ``storm`` work pool while it is on.

The deployment is scheduled every minute at all times and each run first reads
Storm Mode from the database: while it is off the run ends at once. So the
switch is one database row, which the nowcast, an operator or a test sets, and
nothing has to pause or resume the schedule through the Prefect API.
"""

from prefect import flow
from prefect.utilities.asyncutils import run_coro_as_sync

from flows.alert import alert_villages
from flows.nowcast import cycle_time
from tasks import storm as steps
from tasks.alerts import send_queued_messages


@flow(name="storm", log_prints=True)
def storm(at: str | None = None) -> dict:
    """Send reminders, every channel and escalations for villages at risk.

    ``at`` is the time to act as of (ISO 8601 with offset); default now.
    """
    now = cycle_time(at)
    mode = steps.read_storm_mode()
    if not mode["active"]:
        return {"at": now.isoformat(), "active": False}

    reminders = steps.storm_reminders(now)
    sent = run_coro_as_sync(alert_villages(reminders, now))
    widened = steps.alert_every_channel(now)
    escalation = steps.escalate(now)
    drained = send_queued_messages()
    return {
        "at": now.isoformat(),
        "active": True,
        "since": mode["since"],
        "reminders_queued": sum(1 for s in sent if s["alert_created"]),
        "outbox_queued": sum(s["outbox_queued"] for s in sent) + widened,
        "escalation": escalation,
        "outbox_sent": sum(s["outbox_sent"] for s in sent) + drained["sent"],
        "outbox_failed": sum(s["outbox_failed"] for s in sent) + drained["failed"],
    }
