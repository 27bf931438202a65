"""Alert hysteresis and cooldown: single rules, then a wobbling series."""

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from argus.alert_rules import AlertPolicy, Reading, StateView, decide
from argus.storage.alerts import due_reminders, find_level_changes, record_alert
from argus.storage.db import session_scope
from argus.storage.tables import (
    Alert,
    Outbox,
    Subscriber,
    SubscriberVillage,
    VillageState,
)

T0 = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)
CYCLE = timedelta(minutes=5)
POLICY = AlertPolicy(
    hold_cycles=3,
    margin_m=0.1,
    cooldown=timedelta(minutes=30),
    reminder_interval=timedelta(hours=1),
)
# Guwahati D.C. Court (001-MBDGHY): warning 48.68 m, danger 49.68 m.
WARNING_M = 48.68
DANGER_M = 49.68


def _reading(level: str, level_m: float) -> Reading:
    return Reading(
        level=level, level_m=level_m, warning_level_m=WARNING_M, danger_level_m=DANGER_M
    )


def _state(level: str, **fields) -> StateView:
    return StateView(
        level=level, announced_level=fields.pop("announced", level), **fields
    )


def test_upgrade_moves_at_once_with_message():
    decision = decide(_state("WATCH"), _reading("WARNING", 48.7), at=T0, policy=POLICY)

    assert decision.move_to == "WARNING"
    assert decision.kind == "level_change"


def test_small_drop_waits_for_hold_cycles():
    state = _state("WARNING")
    decision = decide(state, _reading("WATCH", 48.65), at=T0, policy=POLICY)

    assert decision.move_to is None
    assert decision.pending_level == "WATCH"
    assert decision.pending_cycles == 1


def test_drop_below_margin_is_all_clear_at_once():
    decision = decide(_state("WARNING"), _reading("NORMAL", 48.5), at=T0, policy=POLICY)

    assert decision.move_to == "NORMAL"
    assert decision.kind == "all_clear"


def test_held_downgrade_moves_to_highest_level_seen():
    state = _state("EMERGENCY", pending_level="WATCH", pending_cycles=2)
    decision = decide(state, _reading("WARNING", 49.65), at=T0, policy=POLICY)

    assert decision.move_to == "WARNING"
    assert decision.kind == "level_change"


def test_retried_cycle_is_not_counted_twice():
    state = _state("WARNING", pending_level="WATCH", pending_cycles=2)
    decision = decide(
        state, _reading("WATCH", 48.65), at=T0, policy=POLICY, new_cycle=False
    )

    assert decision.move_to is None
    assert decision.pending_cycles == 2


def test_upgrade_back_in_cooldown_is_quiet():
    state = _state(
        "WATCH", downgraded_at=T0, downgraded_from="WARNING", announced="WATCH"
    )
    quiet = decide(state, _reading("WARNING", 48.7), at=T0 + CYCLE, policy=POLICY)
    later = decide(
        state, _reading("WARNING", 48.7), at=T0 + timedelta(minutes=31), policy=POLICY
    )

    assert (quiet.move_to, quiet.kind) == ("WARNING", None)
    assert (later.move_to, later.kind) == ("WARNING", "level_change")


def test_emergency_in_cooldown_still_alerts():
    state = _state("WARNING", downgraded_at=T0, downgraded_from="EMERGENCY")
    decision = decide(state, _reading("EMERGENCY", 49.7), at=T0 + CYCLE, policy=POLICY)

    assert decision.kind == "level_change"


def test_upgrade_above_former_level_alerts_in_cooldown():
    state = _state("NORMAL", downgraded_at=T0, downgraded_from="WATCH")
    decision = decide(state, _reading("WARNING", 48.7), at=T0 + CYCLE, policy=POLICY)

    assert decision.kind == "level_change"


def test_downgrade_to_announced_level_is_quiet():
    state = _state("WARNING", announced="WATCH")
    decision = decide(state, _reading("WATCH", 48.0), at=T0, policy=POLICY)

    assert (decision.move_to, decision.kind) == ("WATCH", None)


def test_first_sight_alerts_only_above_normal():
    normal = decide(None, _reading("NORMAL", 47.0), at=T0, policy=POLICY)
    watch = decide(None, _reading("WATCH", 47.0), at=T0, policy=POLICY)

    assert (normal.move_to, normal.kind) == ("NORMAL", None)
    assert (watch.move_to, watch.kind) == ("WATCH", "level_change")


# A reading that wobbles around the warning level (48.68 m) for an hour, then
# falls clearly: 13 cycles of 5 minutes.
WOBBLE_M = [
    48.60,  # NORMAL
    48.70,  # WARNING: alert
    48.66,  # NORMAL, but only 0.02 m below: waits
    48.69,  # back at WARNING: the wait restarts
    48.67,
    48.65,
    48.66,  # third lower cycle in a row: all-clear
    48.70,  # back up 5 minutes after the all-clear: quiet (cooldown)
    48.66,
    48.67,
    48.69,
    48.71,
    48.40,  # 0.28 m below the warning level: down at once, quiet
]


def _levels(level_m: float) -> pd.DataFrame:
    level = "WARNING" if level_m >= WARNING_M else "NORMAL"
    reasons = (f"reading {level_m} m",) if level == "WARNING" else ()
    return pd.DataFrame(
        {
            "village_id": ["v1"],
            "level": [level],
            "reasons": [reasons],
            "station_code": ["001-MBDGHY"],
            "monitored": [True],
            "level_m": [level_m],
            "warning_level_m": [WARNING_M],
            "danger_level_m": [DANGER_M],
        }
    )


def _run_cycle(session, level_m: float, at: datetime) -> list[str]:
    review = find_level_changes(session, _levels(level_m), cycle_at=at, policy=POLICY)
    for change in review.changes:
        record_alert(session, change, cycle_at=at, flow_run_id=None)
    return [change.kind for change in review.changes]


def test_wobbling_series_sends_two_messages(engine):
    with session_scope(engine) as session:
        kinds = [
            _run_cycle(session, level_m, T0 + i * CYCLE)
            for i, level_m in enumerate(WOBBLE_M)
        ]
        state = session.get(VillageState, "v1")
        alerts = session.exec(select(Alert).order_by(Alert.cycle_at)).all()

    assert [k for cycle in kinds for k in cycle] == ["level_change", "all_clear"]
    assert kinds[1] == ["level_change"]
    assert kinds[6] == ["all_clear"]
    assert [a.level for a in alerts] == ["WARNING", "NORMAL"]
    assert state.level == "NORMAL"
    assert state.announced_level == "NORMAL"
    assert state.pending_cycles == 0


def test_wobble_without_hysteresis_alerts_at_every_crossing(engine):
    """The same series with no hold, margin or cooldown, as the baseline."""
    policy = AlertPolicy(hold_cycles=1, margin_m=0.0, cooldown=timedelta(0))
    with session_scope(engine) as session:
        kinds = []
        for i, level_m in enumerate(WOBBLE_M):
            at = T0 + i * CYCLE
            review = find_level_changes(
                session, _levels(level_m), cycle_at=at, policy=policy
            )
            for change in review.changes:
                record_alert(session, change, cycle_at=at, flow_run_id=None)
                kinds.append(change.kind)

    assert len(kinds) == 8
    assert kinds.count("all_clear") == 4


def test_unmonitored_cycle_keeps_the_wait(engine):
    with session_scope(engine) as session:
        _run_cycle(session, 48.70, T0)
        _run_cycle(session, 48.66, T0 + CYCLE)
        unmonitored = _levels(48.66).assign(level="UNMONITORED", monitored=False)
        find_level_changes(session, unmonitored, cycle_at=T0 + 2 * CYCLE, policy=POLICY)
        state = session.get(VillageState, "v1")

        assert state.level == "WARNING"
        assert state.pending_cycles == 1


def _emergency_village(session, at: datetime) -> None:
    levels = _levels(49.9).assign(level="EMERGENCY")
    review = find_level_changes(session, levels, cycle_at=at, policy=POLICY)
    for change in review.changes:
        record_alert(session, change, cycle_at=at, flow_run_id=None)


def test_reminder_due_after_interval(engine):
    with session_scope(engine) as session:
        _emergency_village(session, T0)
        early = due_reminders(
            session, at=T0 + timedelta(minutes=55), interval=POLICY.reminder_interval
        )
        due = due_reminders(
            session, at=T0 + timedelta(hours=1), interval=POLICY.reminder_interval
        )
        record_alert(
            session, due[0], cycle_at=T0 + timedelta(hours=1), flow_run_id=None
        )
        after = due_reminders(
            session,
            at=T0 + timedelta(hours=1, minutes=5),
            interval=POLICY.reminder_interval,
        )
        kinds = session.exec(select(Alert.kind).order_by(Alert.cycle_at)).all()
        state = session.get(VillageState, "v1")

    assert early == []
    assert [(r.village_id, r.kind) for r in due] == [("v1", "reminder")]
    assert after == []
    assert kinds == ["level_change", "reminder"]
    assert state.since == T0


def test_reminder_skips_villages_with_a_change(engine):
    with session_scope(engine) as session:
        _emergency_village(session, T0)
        skipped = due_reminders(
            session,
            at=T0 + timedelta(hours=2),
            interval=POLICY.reminder_interval,
            skip={"v1"},
        )

    assert skipped == []


def test_reminder_and_all_clear_reach_subscribers(engine):
    with session_scope(engine) as session:
        subscriber = Subscriber(phone="+919800000001", channels="sms", consent=True)
        session.add(subscriber)
        session.flush()
        session.add(SubscriberVillage(subscriber_id=subscriber.id, village_id="v1"))
        _emergency_village(session, T0)
        reminder = due_reminders(
            session, at=T0 + timedelta(hours=1), interval=POLICY.reminder_interval
        )
        record_alert(
            session, reminder[0], cycle_at=T0 + timedelta(hours=1), flow_run_id=None
        )
        later = T0 + timedelta(hours=1, minutes=5)
        kinds = _run_cycle(session, 47.0, later)
        rows = session.exec(
            select(Alert.kind, Outbox.channel)
            .join(Alert, Alert.id == Outbox.alert_id)
            .order_by(Outbox.id)
        ).all()
        state = session.get(VillageState, "v1")

    assert kinds == ["all_clear"]
    assert rows == [("level_change", "sms"), ("reminder", "sms"), ("all_clear", "sms")]
    assert state.left_warning_at == later
    assert json.loads(state.reasons) == []


@pytest.mark.parametrize("hold_cycles", [1, 2])
def test_hold_cycles_setting(engine, hold_cycles):
    policy = AlertPolicy(hold_cycles=hold_cycles, margin_m=1.0)
    with session_scope(engine) as session:
        for i, level_m in enumerate([48.7, 48.66, 48.66]):
            review = find_level_changes(
                session, _levels(level_m), cycle_at=T0 + i * CYCLE, policy=policy
            )
            for change in review.changes:
                record_alert(session, change, cycle_at=T0 + i * CYCLE, flow_run_id=None)
        state = session.get(VillageState, "v1")
        alerts = session.exec(select(Alert).order_by(Alert.cycle_at)).all()

    assert state.level == "NORMAL"
    assert alerts[-1].cycle_at == T0 + hold_cycles * CYCLE
