"""Turn a village's change of level into an alert and queued messages."""

import logging
from datetime import datetime

import sqlalchemy as sa

from argus.storage import alerts as alert_store
from argus.storage.db import session_scope
from argus.storage.tables import Village

logger = logging.getLogger(__name__)

_ADVICE = {
    "EMERGENCY": "Move to safe high ground now with family and animals.",
    "WARNING": "Be ready to move; keep documents, food and water at hand.",
    "WATCH": "The river may reach warning level; follow further messages.",
    "NORMAL": "The danger has passed for now.",
}


def compose_message(village_name: str, change: alert_store.LevelChange) -> str:
    """Compose an alert's console text: village, level, first reason and advice."""
    reason = change.reasons[0] if change.reasons else "level changed"
    was = f" (was {change.previous_level})" if change.previous_level else ""
    return (
        f"ARGUS flood {change.level} for {village_name}{was}: {reason}. "
        f"{_ADVICE.get(change.level, '')}"
    ).strip()


def alert_village(
    engine: sa.Engine,
    change: alert_store.LevelChange,
    *,
    cycle_at: datetime,
    flow_run_id: str | None = None,
) -> dict:
    """Record one village's alert and queue its messages, in one transaction.

    Returns ``alert_id``, ``alert_created`` (False on a retry of a call that
    already went through) and ``outbox_queued`` (rows queued by this call).
    """
    with session_scope(engine) as session:
        village = session.get(Village, change.village_id)
        name = village.name if village else change.village_id
        alert, created, queued = alert_store.record_alert(
            session,
            change,
            cycle_at=cycle_at,
            body=compose_message(name, change),
            flow_run_id=flow_run_id,
        )
    logger.info(
        "alert %d for village %s: %s -> %s, %d messages queued",
        alert.id,
        change.village_id,
        change.previous_level,
        change.level,
        queued,
    )
    return {"alert_id": alert.id, "alert_created": created, "outbox_queued": queued}
