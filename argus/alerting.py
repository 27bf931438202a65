"""Turn a village's change of level into an alert and queued messages."""

import logging
from datetime import datetime

import sqlalchemy as sa

from argus import storm
from argus.messaging import CHANNELS
from argus.storage import alerts as alert_store
from argus.storage.db import session_scope

logger = logging.getLogger(__name__)


def alert_village(
    engine: sa.Engine,
    change: alert_store.LevelChange,
    *,
    cycle_at: datetime,
    flow_run_id: str | None = None,
) -> dict:
    """Record one village's alert and queue its messages, in one transaction.

    While Storm Mode is on, the messages go out on every channel each
    subscriber has. Returns ``alert_id``, ``alert_created`` (False on a retry of a call that
    already went through) and ``outbox_queued`` (rows queued by this call).
    """
    with session_scope(engine) as session:
        channels = CHANNELS if storm.is_active(session) else None
        alert, created, queued = alert_store.record_alert(
            session,
            change,
            cycle_at=cycle_at,
            flow_run_id=flow_run_id,
            channels=channels,
        )
    logger.info(
        "alert %d (%s) for village %s: %s -> %s, %d messages queued",
        alert.id,
        change.kind,
        change.village_id,
        change.previous_level,
        change.level,
        queued,
    )
    return {"alert_id": alert.id, "alert_created": created, "outbox_queued": queued}
