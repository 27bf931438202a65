"""Operator switches that force a village onto its fallback sources.

Each switch is a new row, so the history of what was forced and when stays in
the database. The newest row of a village is the one in force.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from argus.errors import InputError
from argus.storage.source_tables import FallbackOverride
from argus.storage.tables import Village

logger = logging.getLogger(__name__)


def set_fallback(
    session: Session, village_id: str, *, enabled: bool, note: str = ""
) -> FallbackOverride:
    """Record that a village is (or no longer is) forced onto fallback sources.

    Raises
    ------
    InputError
        When no village has this id.
    """
    if session.get(Village, village_id) is None:
        raise InputError(
            f"village {village_id!r} not found in the registry; "
            "check the id with `argus villages show`"
        )
    row = FallbackOverride(village_id=village_id, enabled=enabled, note=note)
    session.add(row)
    session.flush()
    logger.warning(
        "fallback %s for village %s by operator%s",
        "forced" if enabled else "released",
        village_id,
        f": {note}" if note else "",
    )
    return row


def forced_villages(session: Session) -> set[str]:
    """Ids of villages whose newest switch forces fallback."""
    rows = session.exec(select(FallbackOverride).order_by(FallbackOverride.id)).all()
    newest = {row.village_id: row.enabled for row in rows}
    return {village for village, enabled in newest.items() if enabled}
