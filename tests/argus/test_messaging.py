"""Queuing an alert's messages: channels, bodies from the database, one row per key."""

from sqlmodel import select

from argus.messaging import queue_messages
from argus.storage.db import session_scope
from argus.storage.tables import Outbox
from tests.argus.alert_rows import add_alert, add_subscriber, add_village


def test_default_channels_prefer_text(engine):
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session)
        add_subscriber(session, "+919800000001", "as", "sms;whatsapp;voice")
        add_subscriber(session, "+919800000002", "as", "voice")
        add_subscriber(session, "+919800000003", "as", "sms", consent=False)
        assert queue_messages(session, alert) == 3
        rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
        assert [(r.subscriber_id, r.channel) for r in rows] == [
            (1, "sms"),
            (1, "whatsapp"),
            (2, "voice"),
        ]
        assert "<Response><Say" in rows[2].body
        assert "Dhubri Ghat" in rows[0].body


def test_queuing_again_adds_nothing_and_channels_restrict(engine):
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session)
        add_subscriber(session, "+919800000001", "en", "sms;voice")
        assert queue_messages(session, alert) == 1
        assert queue_messages(session, alert) == 0
        assert queue_messages(session, alert, step=1, channels={"voice"}) == 1
        keys = session.exec(select(Outbox.idempotency_key, Outbox.step)).all()
        assert sorted(keys) == [("1:1:sms", 0), ("1:1:voice", 1)]


def test_sms_rows_record_encoding_and_segments(engine, monkeypatch):
    monkeypatch.setenv("ARGUS_SMS_MAX_SEGMENTS", "2")
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session)
        add_subscriber(session, "+919800000001", "en", "sms;whatsapp")
        add_subscriber(session, "+919800000002", "bn", "sms;voice")
        queue_messages(session, alert, channels={"sms", "whatsapp", "voice"})
        rows = {(r.language, r.channel): r for r in session.exec(select(Outbox)).all()}

    english, bengali = rows["en", "sms"], rows["bn", "sms"]
    assert (english.encoding, english.segments) == ("GSM-7", 2)
    assert (bengali.encoding, bengali.segments) == ("UCS-2", 2)
    assert rows["en", "whatsapp"].body == english.body
    assert rows["en", "whatsapp"].segments is None
    assert rows["bn", "voice"].encoding is None
    assert 'language="bn-IN"' in rows["bn", "voice"].body


def test_body_states_the_facts_known_at_the_cycle(engine):
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session)
        add_subscriber(session, "+919800000001", "en", "voice")
        queue_messages(session, alert)
        body = session.exec(select(Outbox.body)).one()

    assert "FLOOD EMERGENCY in Dhubri Ghat." in body
    assert "Brahmaputra at Dhubri: 28.93 metres at 11:30" in body
    assert "danger level 28.62 metres" in body
    # The reading of 31.0 m was published after the cycle time.
    assert "31" not in body
    # Reasons name no forecast, so the stored forecasts give the lead: the
    # median reaches 29.8 m, below the highest flood level, so nothing more.
    assert "highest flood level" not in body


def test_expected_time_comes_from_forecasts(engine):
    with session_scope(engine) as session:
        add_village(session, forecast_peak_m=30.5)
        alert = add_alert(session, kind="reminder", previous="EMERGENCY")
        add_subscriber(session, "+919800000001", "en", "whatsapp")
        queue_messages(session, alert)
        body = session.exec(select(Outbox.body)).one()

    assert body.startswith("REMINDER: flood EMERGENCY continues in Dhubri Ghat.")
    # p50 rises linearly by 1.57 m over 6 h and passes 30.36 m at lead 6 h.
    assert "highest flood level (30.36 m) in about 6 hours" in body


def test_expected_time_comes_from_reasons(engine):
    reasons = ["p50 forecast reaches danger level 28.62 m in 3 h"]
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session, level="WARNING", previous="WATCH", reasons=reasons)
        add_subscriber(session, "+919800000001", "hi", "sms")
        queue_messages(session, alert)
        body = session.exec(select(Outbox.body)).one()

    assert body.startswith("बाढ़ चेतावनी: Dhubri Ghat।")
    assert "लगभग 3 घंटे में पानी खतरे का स्तर (28.62 मी.)" in body
