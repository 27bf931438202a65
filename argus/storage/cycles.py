"""Cycle records: one row per nowcast cycle with its JSON summary."""

import json
from datetime import datetime

from sqlmodel import Session, select

from argus.storage.tables import Cycle, utc_now


def open_cycle(session: Session, *, cycle_at: datetime, mode: str) -> int:
    """Record the start of a cycle; returns its id."""
    cycle = Cycle(cycle_at=cycle_at, mode=mode)
    session.add(cycle)
    session.flush()
    return cycle.id


def close_cycle(session: Session, cycle_id: int, *, summary: dict, status: str) -> None:
    """Record the end of a cycle and its summary."""
    cycle = session.get(Cycle, cycle_id)
    cycle.finished_at = utc_now()
    cycle.status = status
    cycle.summary = json.dumps(summary, sort_keys=True)


def latest_cycle(session: Session) -> Cycle | None:
    """Return the most recently finished cycle, or None before the first one."""
    query = (
        select(Cycle)
        .where(Cycle.finished_at.is_not(None))
        .order_by(Cycle.finished_at.desc(), Cycle.id.desc())
    )
    return session.exec(query).first()
