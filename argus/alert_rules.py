"""When a change of a village's level moves its state, and when it sends a message.

The levels that :func:`models.village_levels.decide_levels` gives a village
can wobble from cycle to cycle around a threshold. These rules keep such a
wobble from flooding people with messages:

1. An upgrade (a more severe level) moves the state at once.
2. A downgrade waits until the lower levels have held for ``hold_cycles``
   cycles in a row, and then moves to the most severe of the levels seen while
   it waited. It moves at once when the reading is at least ``margin_m`` below
   the threshold of the current level: the danger level for EMERGENCY, the
   warning level for WARNING. A downgrade from WATCH always waits, because
   WATCH comes from a forecast, not from a reading.
3. Cooldown: an upgrade within ``cooldown`` after a downgrade, back to a level
   no higher than the one the village came down from, moves the state without
   a message, unless the new level is EMERGENCY.
4. A move sends a message only when it tells people something new: a
   downgrade below the level last announced to them (``announced_level``), or
   an upgrade above it. A downgrade to NORMAL or WATCH from an announced WARNING
   or EMERGENCY is an all-clear; other moves are level changes.

A village seen for the first time sends a message only when it is above
NORMAL, so the first cycle on an empty database warns only villages at risk.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from argus.settings import Settings

SEVERITY = {"NORMAL": 0, "WATCH": 1, "WARNING": 2, "EMERGENCY": 3}
LEVEL_CHANGE = "level_change"
ALL_CLEAR = "all_clear"
REMINDER = "reminder"


@dataclass(frozen=True)
class AlertPolicy:
    """Hysteresis and cooldown of level changes, and the reminder interval."""

    hold_cycles: int = 3
    margin_m: float = 0.1
    cooldown: timedelta = timedelta(minutes=30)
    reminder_interval: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> "AlertPolicy":
        return cls(
            hold_cycles=settings.downgrade_hold_cycles,
            margin_m=settings.downgrade_margin_m,
            cooldown=timedelta(seconds=settings.upgrade_cooldown_s),
            reminder_interval=timedelta(seconds=settings.reminder_interval_s),
        )


@dataclass(frozen=True)
class StateView:
    """The stored state of a village as far as these rules need it."""

    level: str
    announced_level: str
    pending_level: str | None = None
    pending_cycles: int = 0
    downgraded_at: datetime | None = None
    downgraded_from: str | None = None


@dataclass(frozen=True)
class Reading:
    """The decided level of one cycle with the reading behind it [m] (NaN if none)."""

    level: str
    level_m: float = math.nan
    warning_level_m: float = math.nan
    danger_level_m: float = math.nan


@dataclass(frozen=True)
class Decision:
    """Outcome of one cycle for a village's state.

    ``move_to`` is the new level, or None when the state stays. ``kind`` is
    the kind of the alert to send, or None for no message. ``rule`` names the
    rule that decided. ``pending_level`` and ``pending_cycles`` are the
    counter of a waiting downgrade, stored when the state stays.
    """

    move_to: str | None
    kind: str | None
    rule: str
    pending_level: str | None = None
    pending_cycles: int = 0


def decide(
    state: StateView | None,
    reading: Reading,
    *,
    at: datetime,
    policy: AlertPolicy,
    new_cycle: bool = True,
) -> Decision:
    """Apply the rules of this module to one village in one cycle.

    ``new_cycle`` is False when this cycle was already counted (a retried
    run), so a waiting downgrade is not counted twice.
    """
    level = reading.level
    if state is None:
        kind = None if level == "NORMAL" else LEVEL_CHANGE
        return Decision(move_to=level, kind=kind, rule="first sight")
    if level == state.level:
        return Decision(move_to=None, kind=None, rule="unchanged")
    if SEVERITY[level] > SEVERITY[state.level]:
        return _upgrade(state, level, at=at, policy=policy)
    return _downgrade(state, reading, policy=policy, new_cycle=new_cycle)


def _upgrade(
    state: StateView, level: str, *, at: datetime, policy: AlertPolicy
) -> Decision:
    if SEVERITY[level] <= SEVERITY[state.announced_level]:
        return Decision(move_to=level, kind=None, rule="already announced")
    in_cooldown = (
        state.downgraded_at is not None
        and at - state.downgraded_at < policy.cooldown
        and state.downgraded_from is not None
        and SEVERITY[level] <= SEVERITY[state.downgraded_from]
    )
    if in_cooldown and level != "EMERGENCY":
        return Decision(move_to=level, kind=None, rule="cooldown after a downgrade")
    return Decision(move_to=level, kind=LEVEL_CHANGE, rule="upgrade")


def _downgrade(
    state: StateView, reading: Reading, *, policy: AlertPolicy, new_cycle: bool
) -> Decision:
    pending = reading.level
    if state.pending_level is not None:
        pending = max(pending, state.pending_level, key=SEVERITY.__getitem__)
    cycles = state.pending_cycles + (1 if new_cycle else 0)

    margin = _margin_below(state.level, reading)
    if margin is not None and margin >= policy.margin_m:
        target, rule = reading.level, f"reading {margin:.2f} m below the threshold"
    elif cycles >= policy.hold_cycles:
        target, rule = pending, f"lower for {cycles} cycles"
    else:
        return Decision(
            move_to=None,
            kind=None,
            rule=f"downgrade waits ({cycles} of {policy.hold_cycles} cycles)",
            pending_level=pending,
            pending_cycles=cycles,
        )
    return Decision(move_to=target, kind=_downgrade_kind(state, target), rule=rule)


def _margin_below(level: str, reading: Reading) -> float | None:
    """Return how far the reading is below the threshold of ``level`` [m], if known."""
    threshold = {
        "EMERGENCY": reading.danger_level_m,
        "WARNING": reading.warning_level_m,
    }.get(level, math.nan)
    margin = threshold - reading.level_m
    return None if math.isnan(margin) else margin


def _downgrade_kind(state: StateView, target: str) -> str | None:
    announced = SEVERITY[state.announced_level]
    if SEVERITY[target] >= announced:
        return None
    if announced >= SEVERITY["WARNING"] and SEVERITY[target] < SEVERITY["WARNING"]:
        return ALL_CLEAR
    return LEVEL_CHANGE
