"""Queuing an alert's messages: channels per subscriber, one row per key."""

from datetime import UTC, datetime

from sqlmodel import select

from argus.messaging import queue_messages
from argus.storage.db import session_scope
from argus.storage.tables import Alert, Outbox, Subscriber, SubscriberVillage, Village

CYCLE_AT = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)


def _subscriber(session, phone: str, channels: str, *, consent: bool = True):
    subscriber = Subscriber(
        phone=phone, name="", language="as", channels=channels, consent=consent
    )
    session.add(subscriber)
    session.flush()
    session.add(SubscriberVillage(subscriber_id=subscriber.id, village_id="v1"))
    return subscriber


def _alert(session) -> Alert:
    session.add(Village(village_id="v1", name="Dhubri Ghat", lat=26.0, lon=89.9))
    alert = Alert(
        village_id="v1",
        cycle_at=CYCLE_AT,
        level="EMERGENCY",
        previous_level="WARNING",
        reasons='["reading 28.9 m >= danger level 28.6 m"]',
    )
    session.add(alert)
    session.flush()
    return alert


def test_default_channels_are_text_unless_voice_is_the_only_one(engine):
    with session_scope(engine) as session:
        alert = _alert(session)
        _subscriber(session, "+919800000001", "sms;whatsapp;voice")
        _subscriber(session, "+919800000002", "voice")
        _subscriber(session, "+919800000003", "sms", consent=False)
        assert queue_messages(session, alert) == 3
        rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
        assert [(r.subscriber_id, r.channel) for r in rows] == [
            (1, "sms"),
            (1, "whatsapp"),
            (2, "voice"),
        ]
        assert rows[2].body.startswith("<Response><Say")
        assert "Dhubri Ghat" in rows[0].body


def test_queuing_again_adds_nothing_and_channels_restrict(engine):
    with session_scope(engine) as session:
        alert = _alert(session)
        _subscriber(session, "+919800000001", "sms;voice")
        assert queue_messages(session, alert) == 1
        assert queue_messages(session, alert) == 0
        assert queue_messages(session, alert, step=1, channels={"voice"}) == 1
        keys = session.exec(select(Outbox.idempotency_key, Outbox.step)).all()
        assert sorted(keys) == [("1:1:sms", 0), ("1:1:voice", 1)]
