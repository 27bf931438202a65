"""Storm Mode on and off with its hysteresis, operator overrides, every channel."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from argus import storm
from argus.alert_rules import AlertPolicy
from argus.alerting import alert_village
from argus.errors import InputError
from argus.storage.alerts import LevelChange, find_level_changes, record_alert
from argus.storage.db import session_scope
from argus.storage.tables import Outbox, StormEvent, Subscriber, SubscriberVillage

T0 = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)
POLICY = storm.StormPolicy(emergency_villages=3, calm=timedelta(minutes=30))
# Reading [m] that gives each level with warning 48.68 m and danger 49.68 m.
READING_M = {"NORMAL": 47.0, "WATCH": 48.0, "WARNING": 48.9, "EMERGENCY": 49.9}


def _cycle(session, levels: dict[str, str], at: datetime) -> None:
    frame = pd.DataFrame(
        {
            "village_id": list(levels),
            "level": list(levels.values()),
            "reasons": [(f"{level} reason",) for level in levels.values()],
            "station_code": "001-MBDGHY",
            "monitored": True,
            "level_m": [READING_M[level] for level in levels.values()],
            "warning_level_m": 48.68,
            "danger_level_m": 49.68,
        }
    )
    review = find_level_changes(session, frame, cycle_at=at, policy=AlertPolicy())
    for change in review.changes:
        record_alert(session, change, cycle_at=at, flow_run_id=None)


def _review(session, at: datetime):
    return storm.review_storm_mode(session, now=at, policy=POLICY)


def test_turns_on_at_three_villages_at_emergency(engine):
    with session_scope(engine) as session:
        _cycle(session, {"a": "EMERGENCY", "b": "EMERGENCY", "c": "WARNING"}, T0)
        two = _review(session, T0)
        active_at_two = storm.is_active(session)
        later = T0 + timedelta(minutes=5)
        _cycle(session, {"a": "EMERGENCY", "b": "EMERGENCY", "c": "EMERGENCY"}, later)
        three = _review(session, later)

        assert two is None
        assert not active_at_two
        assert three.active
        assert three.actor == f"cycle {later.isoformat()}"
        assert three.villages_at_emergency == 3
        assert "3 villages at EMERGENCY" in three.reason
        assert storm.is_active(session)


def _storm_then_calm(session) -> datetime:
    """Storm Mode on at T0; every village below WARNING from T0 + 10 min."""
    _cycle(session, {"a": "EMERGENCY", "b": "EMERGENCY", "c": "EMERGENCY"}, T0)
    _review(session, T0)
    calm_from = T0 + timedelta(minutes=10)
    _cycle(session, {"a": "NORMAL", "b": "WATCH", "c": "NORMAL"}, calm_from)
    return calm_from


def test_turns_off_after_calm_period(engine):
    with session_scope(engine) as session:
        calm_from = _storm_then_calm(session)
        early = _review(session, calm_from + timedelta(minutes=29))
        off = _review(session, calm_from + timedelta(minutes=30))

        assert early is None
        assert off is not None
        assert not off.active
        assert calm_from.isoformat() in off.reason
        assert not storm.is_active(session)


def test_one_village_at_warning_keeps_it_on(engine):
    with session_scope(engine) as session:
        _cycle(session, {"a": "EMERGENCY", "b": "EMERGENCY", "c": "EMERGENCY"}, T0)
        _review(session, T0)
        at = T0 + timedelta(minutes=10)
        _cycle(session, {"a": "NORMAL", "b": "NORMAL", "c": "WARNING"}, at)

        assert _review(session, at + timedelta(hours=3)) is None
        assert storm.is_active(session)


def test_waiting_downgrade_keeps_it_on(engine):
    """A village whose fall below WARNING is not yet confirmed still counts."""
    with session_scope(engine) as session:
        _cycle(session, {"a": "EMERGENCY", "b": "EMERGENCY", "c": "WARNING"}, T0)
        storm.set_storm_mode(
            session, active=True, reason="drill", operator="duty officer", now=T0
        )
        # 48.6 m is NORMAL but only 0.08 m below the warning level: waits.
        frame = pd.DataFrame(
            {
                "village_id": ["c"],
                "level": ["NORMAL"],
                "reasons": [()],
                "station_code": ["001-MBDGHY"],
                "monitored": [True],
                "level_m": [48.6],
                "warning_level_m": [48.68],
                "danger_level_m": [49.68],
            }
        )
        _cycle(session, {"a": "NORMAL", "b": "NORMAL"}, T0 + timedelta(minutes=5))
        find_level_changes(
            session, frame, cycle_at=T0 + timedelta(minutes=5), policy=AlertPolicy()
        )

        assert _review(session, T0 + timedelta(hours=1)) is None


def test_operator_activation_lasts_the_calm_period(engine):
    with session_scope(engine) as session:
        event = storm.set_storm_mode(
            session, active=True, reason="cyclone landfall", operator="Das", now=T0
        )
        early = _review(session, T0 + timedelta(minutes=29))
        off = _review(session, T0 + timedelta(minutes=30))

        assert event.actor == "operator Das"
        assert early is None
        assert off is not None and not off.active


def test_operator_deactivation_holds_until_worse(engine):
    with session_scope(engine) as session:
        _storm_then_calm(session)
        at = T0 + timedelta(minutes=15)
        _cycle(session, {"a": "EMERGENCY", "b": "EMERGENCY", "c": "EMERGENCY"}, at)
        _review(session, at)
        storm.set_storm_mode(
            session, active=False, reason="false gauge spike", operator="Das", now=at
        )
        same = _review(session, at + timedelta(minutes=5))
        _cycle(session, {"d": "EMERGENCY"}, at + timedelta(minutes=10))
        worse = _review(session, at + timedelta(minutes=10))

        assert same is None
        assert worse is not None and worse.active
        assert worse.villages_at_emergency == 4


def test_every_change_is_recorded(engine):
    with session_scope(engine) as session:
        calm_from = _storm_then_calm(session)
        _review(session, calm_from + timedelta(minutes=30))
        events = session.exec(select(StormEvent).order_by(StormEvent.id)).all()

    assert [(e.active, e.actor.split()[0]) for e in events] == [
        (True, "cycle"),
        (False, "cycle"),
    ]


@pytest.mark.parametrize(
    ("reason", "operator", "message"),
    [(" ", "Das", "reason is empty"), ("drill", "", "operator is empty")],
)
def test_operator_change_needs_reason_and_name(engine, reason, operator, message):
    with session_scope(engine) as session, pytest.raises(InputError, match=message):
        storm.set_storm_mode(
            session, active=True, reason=reason, operator=operator, now=T0
        )


def test_alerts_use_every_channel_in_storm_mode(engine):
    with session_scope(engine) as session:
        subscriber = Subscriber(
            phone="+919800000001", channels="sms;whatsapp;voice", consent=True
        )
        session.add(subscriber)
        session.flush()
        for village_id in ("a", "b"):
            session.add(
                SubscriberVillage(subscriber_id=subscriber.id, village_id=village_id)
            )
        _cycle(session, {"a": "WARNING"}, T0)
        storm.set_storm_mode(
            session, active=True, reason="drill", operator="Das", now=T0
        )
        widened = storm.alert_every_channel(session, now=T0 + timedelta(minutes=1))

    change = {
        "village_id": "b",
        "level": "WARNING",
        "previous_level": None,
        "reasons": ["reading 48.9 m"],
        "station_code": "001-MBDGHY",
    }
    result = alert_village(engine, LevelChange(**change), cycle_at=T0)
    with session_scope(engine) as session:
        channels = session.exec(
            select(Outbox.channel).where(Outbox.alert_id == result["alert_id"])
        ).all()

    assert widened == 1
    assert result["outbox_queued"] == 3
    assert sorted(channels) == ["sms", "voice", "whatsapp"]
