"""Village states, alerts and the outbox in the database.

A village's state keeps its last *monitored* level: a cycle that finds the
village unmonitored does not overwrite it, so a gauge that drops out and comes
back at the same level raises no second alert.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlmodel import Session, select

from argus.messaging import queue_messages
from argus.storage.tables import Alert, VillageState

logger = logging.getLogger(__name__)

UNMONITORED = "UNMONITORED"


@dataclass(frozen=True)
class LevelChange:
    """A village whose level changed in this cycle (JSON-able for a subflow)."""

    village_id: str
    level: str
    previous_level: str | None
    reasons: list[str]
    station_code: str | None


def find_level_changes(session: Session, levels: pd.DataFrame) -> list[LevelChange]:
    """Compare decided levels with the stored states.

    A village with no stored state alerts only when it is above NORMAL, so the
    first cycle on an empty database warns only villages at risk. Unmonitored
    villages never alert from here.
    """
    states = {s.village_id: s.level for s in session.exec(select(VillageState)).all()}
    monitored = levels[levels["level"] != UNMONITORED]
    changes = []
    for record in monitored.to_dict("records"):
        previous = states.get(record["village_id"])
        if record["level"] == previous:
            continue
        if previous is None and record["level"] == "NORMAL":
            continue
        changes.append(
            LevelChange(
                village_id=str(record["village_id"]),
                level=record["level"],
                previous_level=previous,
                reasons=list(record["reasons"]),
                station_code=record["station_code"],
            )
        )
    return changes


def at_risk_now_unmonitored(session: Session, levels: pd.DataFrame) -> list[str]:
    """Ids of villages last known above NORMAL whose gauge is now unusable.

    Their stored state keeps the last monitored level. The operator needs a
    warning because no reading now confirms or clears the risk.
    """
    at_risk = {
        s.village_id
        for s in session.exec(select(VillageState)).all()
        if s.level != "NORMAL"
    }
    unmonitored = levels.loc[levels["level"] == UNMONITORED, "village_id"]
    return sorted(set(unmonitored.astype(str)) & at_risk)


def update_quiet_states(
    session: Session, levels: pd.DataFrame, *, cycle_at: datetime
) -> int:
    """Record NORMAL states that raise no alert (first sight of a quiet village).

    Returns the number of states written. Villages with an alert get their
    state from ``record_alert`` instead, inside the alert's own transaction.
    """
    states = {s.village_id: s for s in session.exec(select(VillageState)).all()}
    written = 0
    for record in levels[levels["level"] == "NORMAL"].to_dict("records"):
        if record["village_id"] in states:
            states[record["village_id"]].cycle_at = cycle_at
            continue
        session.add(_state(record["village_id"], "NORMAL", cycle_at, record))
        written += 1
    session.flush()
    return written


def record_alert(
    session: Session,
    change: LevelChange,
    *,
    cycle_at: datetime,
    flow_run_id: str | None,
) -> tuple[Alert, bool, int]:
    """Store the alert, queue its messages (see :mod:`argus.messaging`), move the state.

    Idempotent: a second call for the same village and cycle finds the alert and
    the outbox rows already there and adds nothing. Returns the alert, whether
    this call created it, and the number of outbox rows queued by this call.
    """
    alert = session.exec(
        select(Alert).where(
            Alert.village_id == change.village_id, Alert.cycle_at == cycle_at
        )
    ).first()
    created = alert is None
    if created:
        alert = Alert(
            village_id=change.village_id,
            cycle_at=cycle_at,
            level=change.level,
            previous_level=change.previous_level,
            reasons=json.dumps(change.reasons),
            station_code=change.station_code,
            flow_run_id=flow_run_id,
        )
        session.add(alert)
        session.flush()

    queued = queue_messages(session, alert)
    _move_state(session, change, cycle_at=cycle_at)
    session.flush()
    return alert, created, queued


def _move_state(session: Session, change: LevelChange, *, cycle_at: datetime) -> None:
    state = session.get(VillageState, change.village_id)
    record = {"station_code": change.station_code, "reasons": change.reasons}
    if state is None:
        session.add(_state(change.village_id, change.level, cycle_at, record))
        return
    state.level = change.level
    state.since = cycle_at
    state.cycle_at = cycle_at
    state.station_code = change.station_code
    state.reasons = json.dumps(change.reasons)


def _state(village_id: str, level: str, cycle_at: datetime, record: dict):
    return VillageState(
        village_id=str(village_id),
        level=level,
        since=cycle_at,
        cycle_at=cycle_at,
        station_code=record.get("station_code"),
        reasons=json.dumps(list(record.get("reasons") or [])),
    )
