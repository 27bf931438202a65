"""Village states, alerts and the outbox in the database.

A village's state keeps its last *monitored* level: a cycle that finds the
village unmonitored does not overwrite it, so a gauge that drops out and comes
back at the same level raises no second alert. When a change of level moves
the state and sends a message is decided by :mod:`argus.alert_rules`.
"""

import json
import logging
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from argus import alert_rules as rules
from argus.messaging import queue_messages
from argus.storage.tables import Alert, VillageState

logger = logging.getLogger(__name__)

UNMONITORED = "UNMONITORED"


@dataclass(frozen=True)
class LevelChange:
    """A village's alert of this cycle (JSON-able for a subflow).

    ``kind`` is level_change, all_clear (fell back below WARNING) or reminder
    (still at EMERGENCY).
    """

    village_id: str
    level: str
    previous_level: str | None
    reasons: list[str]
    station_code: str | None
    kind: str = rules.LEVEL_CHANGE


@dataclass
class LevelReview:
    """The alerts a cycle raises, and the level moves it makes without one."""

    changes: list[LevelChange] = field(default_factory=list)
    moved_quietly: int = 0
    downgrades_waiting: int = 0


def find_level_changes(
    session: Session,
    levels: pd.DataFrame,
    *,
    cycle_at: datetime,
    policy: rules.AlertPolicy | None = None,
) -> LevelReview:
    """Compare decided levels with the stored states under the alert rules.

    The rules are those of :mod:`argus.alert_rules`. Moves that send no message
    and the counters of waiting downgrades are written here. Moves that send
    a message are returned, and ``record_alert`` writes them together with
    their alert. Unmonitored villages are skipped and keep their state.
    """
    policy = policy or rules.AlertPolicy()
    states = {s.village_id: s for s in session.exec(select(VillageState)).all()}
    review = LevelReview()
    for record in levels[levels["level"] != UNMONITORED].to_dict("records"):
        village_id = str(record["village_id"])
        state = states.get(village_id)
        if state is not None and record["level"] == state.level:
            # Most villages each cycle: same level, so any waiting downgrade ends.
            _keep_state(state, cycle_at=cycle_at)
            continue

        new_cycle = state is None or cycle_at > state.cycle_at
        decision = rules.decide(
            _view(state),
            _reading(record),
            at=cycle_at,
            policy=policy,
            new_cycle=new_cycle,
        )
        if decision.move_to is None:
            _keep_state(state, cycle_at=cycle_at, decision=decision)
            review.downgrades_waiting += 1
            continue
        change = LevelChange(
            village_id=village_id,
            level=decision.move_to,
            previous_level=state.level if state else None,
            reasons=list(record["reasons"]),
            station_code=record["station_code"],
            kind=decision.kind or rules.LEVEL_CHANGE,
        )
        if decision.kind is None:
            _move_state(session, change, cycle_at=cycle_at, announced=False)
            review.moved_quietly += state is not None
        else:
            review.changes.append(change)
    session.flush()
    if review.moved_quietly or review.downgrades_waiting:
        logger.info(
            "alert rules at %s: %d level moves without a message, "
            "%d downgrades waiting",
            cycle_at.isoformat(),
            review.moved_quietly,
            review.downgrades_waiting,
        )
    return review


def _keep_state(
    state: VillageState, *, cycle_at: datetime, decision: rules.Decision | None = None
) -> None:
    """Keep the level; store the waiting downgrade's counter (none by default)."""
    pending_level = decision.pending_level if decision else None
    pending_cycles = decision.pending_cycles if decision else 0
    if state.pending_level != pending_level:
        state.pending_level = pending_level
    if state.pending_cycles != pending_cycles:
        state.pending_cycles = pending_cycles
    state.cycle_at = max(state.cycle_at, cycle_at)


def due_reminders(
    session: Session,
    *,
    at: datetime,
    interval: timedelta,
    levels: pd.DataFrame | None = None,
    skip: Collection[str] = (),
) -> list[LevelChange]:
    """Find the reminders due for villages still at EMERGENCY.

    A reminder is due when the latest EMERGENCY alert (level change or
    reminder) of a village announced at EMERGENCY is at least ``interval``
    older than ``at``. Its reasons are those of ``levels`` when the village is
    monitored there, else the stored ones. Villages in ``skip`` (those with a
    level change in this cycle) get none.
    """
    states = session.exec(
        select(VillageState).where(VillageState.level == "EMERGENCY")
    ).all()
    states = [
        s
        for s in states
        if (s.announced_level or s.level) == "EMERGENCY" and s.village_id not in skip
    ]
    if not states:
        return []
    last = dict(
        session.exec(
            select(Alert.village_id, sa.func.max(Alert.cycle_at))
            .where(
                Alert.village_id.in_([s.village_id for s in states]),
                Alert.level == "EMERGENCY",
                Alert.kind.in_([rules.LEVEL_CHANGE, rules.REMINDER]),
            )
            .group_by(Alert.village_id)
        ).all()
    )
    current = _monitored_reasons(levels)
    reminders = []
    for state in states:
        previous = last.get(state.village_id)
        if previous is not None and at - previous < interval:
            continue
        reminders.append(
            LevelChange(
                village_id=state.village_id,
                level="EMERGENCY",
                previous_level="EMERGENCY",
                reasons=current.get(state.village_id) or json.loads(state.reasons),
                station_code=state.station_code,
                kind=rules.REMINDER,
            )
        )
    return reminders


def level_counts(session: Session) -> dict[str, int]:
    """Count the villages per stored level (after hysteresis)."""
    rows = session.exec(
        select(VillageState.level, sa.func.count()).group_by(VillageState.level)
    ).all()
    return {level: int(count) for level, count in rows}


def _monitored_reasons(levels: pd.DataFrame | None) -> dict[str, list[str]]:
    if levels is None:
        return {}
    monitored = levels[levels["level"] != UNMONITORED]
    return {
        str(village_id): list(reasons)
        for village_id, reasons in zip(
            monitored["village_id"], monitored["reasons"], strict=True
        )
    }


def _view(state: VillageState | None) -> rules.StateView | None:
    if state is None:
        return None
    return rules.StateView(
        level=state.level,
        announced_level=state.announced_level or state.level,
        pending_level=state.pending_level,
        pending_cycles=state.pending_cycles,
        downgraded_at=state.downgraded_at,
        downgraded_from=state.downgraded_from,
    )


def _reading(record: dict) -> rules.Reading:
    return rules.Reading(
        level=record["level"],
        level_m=_float(record.get("level_m")),
        warning_level_m=_float(record.get("warning_level_m")),
        danger_level_m=_float(record.get("danger_level_m")),
    )


def _float(value) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


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


def record_alert(
    session: Session,
    change: LevelChange,
    *,
    cycle_at: datetime,
    flow_run_id: str | None,
    channels: Collection[str] | None = None,
) -> tuple[Alert, bool, int]:
    """Store the alert, queue its messages (see :mod:`argus.messaging`), move the state.

    Idempotent: a second call for the same village and cycle finds the alert and
    the outbox rows already there and adds nothing. ``channels`` is passed to
    ``queue_messages`` (Storm Mode passes every channel). Returns the alert,
    whether this call created it, and the number of outbox rows queued by this
    call. A reminder leaves the state as it is.
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
            kind=change.kind,
        )
        session.add(alert)
        session.flush()

    queued = queue_messages(session, alert, channels=channels)
    if change.kind != rules.REMINDER:
        _move_state(session, change, cycle_at=cycle_at, announced=True)
    session.flush()
    return alert, created, queued


def _move_state(
    session: Session, change: LevelChange, *, cycle_at: datetime, announced: bool
) -> None:
    """Move a village's state to ``change.level`` and reset its waiting downgrade."""
    state = session.get(VillageState, change.village_id)
    record = {"station_code": change.station_code, "reasons": change.reasons}
    if state is None:
        session.add(_state(change.village_id, change.level, cycle_at, record))
        return
    old = state.level
    if rules.SEVERITY[change.level] < rules.SEVERITY[old]:
        state.downgraded_at = cycle_at
        state.downgraded_from = old
        warning = rules.SEVERITY["WARNING"]
        if rules.SEVERITY[old] >= warning > rules.SEVERITY[change.level]:
            state.left_warning_at = cycle_at
    if announced:
        state.announced_level = change.level
    elif state.announced_level is None:
        state.announced_level = old
    if change.level != old:
        state.since = cycle_at
    state.level = change.level
    state.cycle_at = cycle_at
    state.station_code = change.station_code
    state.reasons = json.dumps(change.reasons)
    state.pending_level = None
    state.pending_cycles = 0


def _state(village_id: str, level: str, cycle_at: datetime, record: dict):
    return VillageState(
        village_id=str(village_id),
        level=level,
        since=cycle_at,
        cycle_at=cycle_at,
        station_code=record.get("station_code"),
        reasons=json.dumps(list(record.get("reasons") or [])),
        announced_level=level,
    )
