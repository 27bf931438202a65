"""Escalation of unacknowledged alerts, on a controlled clock."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from argus import escalation
from argus.alert_rules import AlertPolicy
from argus.escalation import EscalationPolicy, escalate
from argus.storage.alerts import due_reminders, find_level_changes, record_alert
from argus.storage.db import session_scope
from argus.storage.tables import (
    Acknowledgement,
    Alert,
    Outbox,
    Subscriber,
    SubscriberVillage,
    Village,
)

T0 = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)
POLICY = EscalationPolicy(after=timedelta(minutes=15), max_step=2)


def _add_subscriber(session, phone: str, channels: str, role: str = "resident"):
    subscriber = Subscriber(phone=phone, channels=channels, role=role, consent=True)
    session.add(subscriber)
    session.flush()
    session.add(SubscriberVillage(subscriber_id=subscriber.id, village_id="v1"))
    return subscriber


def _levels(level: str, level_m: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_id": ["v1"],
            "level": [level],
            "reasons": [(f"reading {level_m} m",)],
            "station_code": ["001-MBDGHY"],
            "monitored": [True],
            "level_m": [level_m],
            "warning_level_m": [48.68],
            "danger_level_m": [49.68],
        }
    )


def _cycle(session, level: str, level_m: float, at: datetime) -> None:
    review = find_level_changes(
        session, _levels(level, level_m), cycle_at=at, policy=AlertPolicy()
    )
    for change in review.changes:
        record_alert(session, change, cycle_at=at, flow_run_id=None)


@pytest.fixture
def village(engine):
    """Village v1 at EMERGENCY since T0 with three residents and a volunteer."""
    with session_scope(engine) as session:
        session.add(Village(village_id="v1", name="Dhubri Ghat", lat=26.0, lon=89.9))
        people = {
            "text_and_voice": _add_subscriber(session, "+919800000001", "sms;voice"),
            "text_only": _add_subscriber(session, "+919800000002", "sms"),
            "acknowledges": _add_subscriber(session, "+919800000003", "sms;voice"),
            "volunteer": _add_subscriber(
                session, "+919800000004", "sms;whatsapp;voice", role="volunteer"
            ),
        }
        _cycle(session, "EMERGENCY", 49.9, T0)
        alert = session.exec(select(Alert)).one()
        session.add(
            Acknowledgement(
                subscriber_id=people["acknowledges"].id,
                alert_id=alert.id,
                acknowledged_at=T0 + timedelta(minutes=3),
            )
        )
    return engine, {name: s.id for name, s in people.items()}


def _rows(session, step: int) -> list[tuple[int, str]]:
    return sorted(
        session.exec(
            select(Outbox.subscriber_id, Outbox.channel).where(Outbox.step == step)
        ).all()
    )


def test_nothing_escalates_before_the_time(village):
    engine, _ = village
    with session_scope(engine) as session:
        report = escalate(session, now=T0 + timedelta(minutes=14), policy=POLICY)

        assert report.queued == 0
        assert _rows(session, 1) == []


def test_voice_call_after_first_interval(village):
    engine, ids = village
    with session_scope(engine) as session:
        report = escalate(session, now=T0 + timedelta(minutes=15), policy=POLICY)
        again = escalate(session, now=T0 + timedelta(minutes=20), policy=POLICY)

        assert report.queued_by_step == {1: 1}
        assert report.recipients_waiting == 3
        assert again.queued == 0
        assert _rows(session, 1) == [(ids["text_and_voice"], "voice")]


def test_volunteer_on_every_channel_after_second_interval(village):
    engine, ids = village
    with session_scope(engine) as session:
        report = escalate(session, now=T0 + timedelta(minutes=31), policy=POLICY)

        assert report.queued_by_step == {1: 1, 2: 1}
        assert _rows(session, 2) == [(ids["volunteer"], "voice")]


def test_acknowledged_recipient_never_escalates(village):
    engine, ids = village
    with session_scope(engine) as session:
        escalate(session, now=T0 + timedelta(hours=2), policy=POLICY)
        escalated = {subscriber for subscriber, _ in _rows(session, 1)}

        assert ids["acknowledges"] not in escalated


def test_acknowledgement_covers_later_reminders(village):
    engine, ids = village
    reminder_at = T0 + timedelta(hours=1)
    with session_scope(engine) as session:
        (reminder,) = due_reminders(
            session, at=reminder_at, interval=timedelta(hours=1)
        )
        alert, _, _ = record_alert(
            session, reminder, cycle_at=reminder_at, flow_run_id=None
        )
        escalate(session, now=reminder_at + timedelta(minutes=15), policy=POLICY)
        rows = session.exec(
            select(Outbox.subscriber_id).where(
                Outbox.alert_id == alert.id, Outbox.step == 1
            )
        ).all()

        assert ids["acknowledges"] not in rows
        assert ids["text_and_voice"] in rows


def test_max_step_stops_escalation(village):
    engine, _ = village
    policy = EscalationPolicy(after=timedelta(minutes=15), max_step=1)
    with session_scope(engine) as session:
        report = escalate(session, now=T0 + timedelta(hours=1), policy=policy)

        assert set(report.queued_by_step) == {1}
        assert _rows(session, 2) == []


def test_delivered_is_enough_without_ack_rule(village):
    engine, ids = village
    policy = EscalationPolicy(after=timedelta(minutes=15), needs_ack=False)
    with session_scope(engine) as session:
        for row in session.exec(select(Outbox)).all():
            if row.subscriber_id != ids["text_and_voice"]:
                row.delivery_status = "delivered"
        escalate(session, now=T0 + timedelta(minutes=16), policy=policy)

        assert _rows(session, 1) == [(ids["text_and_voice"], "voice")]


def test_expired_alert_does_not_escalate(village):
    engine, _ = village
    with session_scope(engine) as session:
        session.exec(select(Alert)).one().expires_at = T0 + timedelta(minutes=10)
        report = escalate(session, now=T0 + timedelta(minutes=16), policy=POLICY)

        assert report.queued == 0


def test_village_back_to_normal_does_not_escalate(village):
    engine, _ = village
    with session_scope(engine) as session:
        _cycle(session, "NORMAL", 47.0, T0 + timedelta(minutes=10))
        report = escalate(session, now=T0 + timedelta(minutes=40), policy=POLICY)

        assert report.alerts_checked == 0
        assert _rows(session, 1) == []


def test_opted_out_recipient_does_not_escalate(village):
    engine, ids = village
    with session_scope(engine) as session:
        session.get(Subscriber, ids["text_and_voice"]).opted_out = True
        report = escalate(session, now=T0 + timedelta(minutes=16), policy=POLICY)

        assert report.recipients_waiting == 2
        assert _rows(session, 1) == []


def test_missing_volunteer_is_warned_once(village, caplog, monkeypatch):
    engine, ids = village
    # Warnings already given are remembered per process; start afresh.
    monkeypatch.setattr(escalation, "_WARNED", set())
    with session_scope(engine) as session:
        session.get(Subscriber, ids["volunteer"]).opted_out = True
        escalate(session, now=T0 + timedelta(minutes=31), policy=POLICY)
        escalate(session, now=T0 + timedelta(minutes=36), policy=POLICY)

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["alert 1: village v1 has no ward volunteer for step 2"]
