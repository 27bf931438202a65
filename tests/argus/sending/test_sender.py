"""Sending the outbox through the real Twilio SDK to the local fake server."""

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from argus.errors import ConfigurationError
from argus.sending import send_outbox_sync
from argus.settings import load_settings
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import Outbox, Subscriber
from tests.argus.sending.seed import phone, seed_alert
from tests.fake_twilio import Accepted


@pytest.fixture
def db(argus_env):
    return engine_for(load_settings().resolved_database_url)


def _rows(engine) -> list[Outbox]:
    with session_scope(engine) as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)).all())


def _statuses(engine) -> Counter:
    return Counter(row.status for row in _rows(engine))


def _accepted_keys(fake) -> Counter:
    return Counter((a.kind, a.to) for a in fake.state.accepted)


def test_console_channel_without_credentials(db, argus_env):
    seed_alert(db, subscribers=3)

    report = send_outbox_sync(db, load_settings())

    rows = _rows(db)
    assert report.provider == "console"
    assert report.sent == 3
    assert [row.status for row in rows] == ["sent"] * 3
    assert [row.provider_sid for row in rows] == [f"console-{r.id}" for r in rows]
    recorded = (load_settings().home / "console_messages.jsonl").read_text()
    lines = [json.loads(line) for line in recorded.splitlines()]
    assert [line["outbox_id"] for line in lines] == [row.id for row in rows]
    assert all("Dhubri Ghat" in line["body"] for line in lines)
    assert phone(0) not in recorded


def test_sms_whatsapp_and_voice_reach_twilio_once(db, twilio_env):
    seed_alert(db, subscribers=4, channels="sms;whatsapp")
    seed_alert(db, subscribers=2, channels="voice", first_phone=10)

    report = send_outbox_sync(db, load_settings())

    fake = twilio_env.state
    assert report.sent == 10
    assert _statuses(db) == {"sent": 10}
    assert _accepted_keys(twilio_env) == Counter(
        [("messages", phone(n)) for n in range(4)]
        + [("messages", f"whatsapp:{phone(n)}") for n in range(4)]
        + [("calls", phone(n)) for n in (10, 11)]
    )
    calls = [a for a in fake.accepted if a.kind == "calls"]
    assert all("<Response><Say" in a.body for a in calls)
    assert {a.from_ for a in fake.accepted if a.to.startswith("whatsapp:")} == {
        "whatsapp:+15005550007"
    }
    sids = {row.provider_sid for row in _rows(db)}
    assert sids == {a.sid for a in fake.accepted}


def test_validity_period_follows_expiry(db, twilio_env):
    seed_alert(db, subscribers=1, expires_in=timedelta(seconds=120))
    seed_alert(db, subscribers=1, first_phone=5)

    send_outbox_sync(db, load_settings())

    by_to = {a.to: a for a in twilio_env.state.accepted}
    assert 100 <= by_to[phone(0)].validity_period <= 120
    # Without an expiry of its own, a row expires the validity after creation.
    assert 1790 <= by_to[phone(5)].validity_period <= 1800


def test_status_callback_url_from_public_url(db, twilio_env, monkeypatch):
    monkeypatch.setenv("ARGUS_PUBLIC_URL", "https://argus.example.org/")
    seed_alert(db, subscribers=1)

    send_outbox_sync(db, load_settings())

    (accepted,) = twilio_env.state.accepted
    assert accepted.status_callback == (
        "https://argus.example.org/webhooks/twilio/status"
    )


def test_rate_limited_requests_are_retried(db, twilio_env):
    seed_alert(db, subscribers=5)
    twilio_env.state.script("messages", "429", times=4)

    report = send_outbox_sync(db, load_settings())

    codes = Counter(code for _, kind, code in twilio_env.state.requests)
    assert report.sent == 5
    assert codes["429"] == 4
    assert codes["201"] == 5
    # A 429 is never processed, so nothing is looked up before the retry.
    assert codes["200"] == 0
    assert _accepted_keys(twilio_env) == Counter(
        ("messages", phone(n)) for n in range(5)
    )


def test_server_errors_are_looked_up_then_retried(db, twilio_env):
    seed_alert(db, subscribers=3)
    twilio_env.state.script("messages", "500", times=2)

    report = send_outbox_sync(db, load_settings())

    codes = Counter(code for _, kind, code in twilio_env.state.requests)
    assert report.sent == 3
    assert codes["500"] == 2
    assert codes["200"] >= 2
    assert _accepted_keys(twilio_env) == Counter(
        ("messages", phone(n)) for n in range(3)
    )


def test_slow_answer_is_found_not_resent(db, twilio_env, monkeypatch):
    monkeypatch.setenv("ARGUS_TWILIO_TIMEOUT_S", "0.3")
    twilio_env.state.slow_s = 1.0
    seed_alert(db, subscribers=2)
    twilio_env.state.script("messages", "slow", times=1)

    report = send_outbox_sync(db, load_settings())

    assert report.sent == 2
    assert report.found_at_provider == 1
    assert len(twilio_env.state.accepted) == 2
    assert _statuses(db) == {"sent": 2}


@pytest.mark.parametrize(("mode", "found"), [("drop_before", 0), ("drop_after", 1)])
def test_dropped_connection_sends_once(db, twilio_env, mode, found):
    seed_alert(db, subscribers=3)
    twilio_env.state.script("messages", mode, times=1)

    report = send_outbox_sync(db, load_settings())

    assert report.sent == 3
    assert report.found_at_provider == found
    assert _accepted_keys(twilio_env) == Counter(
        ("messages", phone(n)) for n in range(3)
    )


def test_rate_limit_without_end_requeues(db, twilio_env, monkeypatch):
    monkeypatch.setenv("ARGUS_TWILIO_ATTEMPTS", "2")
    seed_alert(db, subscribers=2)
    twilio_env.state.script("messages", "429", times=100)

    report = send_outbox_sync(db, load_settings())

    assert report.requeued == 2
    assert _statuses(db) == {"queued": 2}
    assert all("rate limited" in row.error for row in _rows(db))


def test_unknown_outcome_without_end_stays_sending(db, twilio_env, monkeypatch):
    monkeypatch.setenv("ARGUS_TWILIO_ATTEMPTS", "2")
    seed_alert(db, subscribers=1)
    twilio_env.state.script("messages", "500", times=100)
    twilio_env.state.script("list", "500", times=100)

    report = send_outbox_sync(db, load_settings())

    (row,) = _rows(db)
    assert report.left_sending == 1
    assert row.status == "sending"
    assert "lookup failed" in row.error


def test_missing_whatsapp_sender_fails_those_rows(db, twilio_env, monkeypatch):
    monkeypatch.delenv("ARGUS_TWILIO_WHATSAPP_FROM")
    seed_alert(db, subscribers=1, channels="sms;whatsapp")

    report = send_outbox_sync(db, load_settings())

    by_channel = {row.channel: row for row in _rows(db)}
    assert report.failed == 1
    assert by_channel["sms"].status == "sent"
    assert by_channel["whatsapp"].status == "failed"
    assert "ARGUS_TWILIO_WHATSAPP_FROM" in by_channel["whatsapp"].error


def test_half_configured_twilio_is_rejected(db, twilio_env, monkeypatch):
    monkeypatch.delenv("ARGUS_TWILIO_AUTH_TOKEN")
    seed_alert(db, subscribers=1)

    with pytest.raises(ConfigurationError, match="ARGUS_TWILIO_AUTH_TOKEN not set"):
        send_outbox_sync(db, load_settings())
    assert _statuses(db) == {"queued": 1}


def test_expired_rows_are_never_sent(db, twilio_env):
    seed_alert(db, subscribers=2, expires_in=timedelta(seconds=-1))
    seed_alert(db, subscribers=1, first_phone=5)
    with session_scope(db) as session:
        session.execute(
            sa.update(Outbox)
            .where(Outbox.alert_id == 2)
            .values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )

    report = send_outbox_sync(db, load_settings())

    assert report.expired == 3
    assert _statuses(db) == {"expired": 3}
    assert twilio_env.state.accepted == []


def test_opted_out_subscriber_is_cancelled(db, twilio_env):
    seed_alert(db, subscribers=2)
    with session_scope(db) as session:
        person = session.exec(
            select(Subscriber).where(Subscriber.phone == phone(1))
        ).one()
        person.opted_out = True

    report = send_outbox_sync(db, load_settings())

    assert report.cancelled == 1
    assert [a.to for a in twilio_env.state.accepted] == [phone(0)]


def test_row_of_a_live_sender_is_left_alone(db, twilio_env):
    seed_alert(db, subscribers=1)
    with session_scope(db) as session:
        session.execute(
            sa.update(Outbox).values(
                status="sending", sending_started_at=datetime.now(UTC)
            )
        )

    report = send_outbox_sync(db, load_settings())

    assert report.sent == 0
    assert _statuses(db) == {"sending": 1}
    assert twilio_env.state.requests == []


def test_stale_rows_are_reconciled_before_sending(db, twilio_env):
    seed_alert(db, subscribers=2)
    rows = _rows(db)
    stale = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(db) as session:
        session.execute(
            sa.update(Outbox).values(status="sending", sending_started_at=stale)
        )
    # The crashed sender got its first message accepted, not its second.
    twilio_env.state.accepted.append(
        Accepted(
            sid="SM" + "a" * 32,
            kind="messages",
            to=phone(0),
            from_="+15005550006",
            body=rows[0].body,
            date_created=datetime.now(UTC).replace(microsecond=0),
            accepted_at=0.0,
        )
    )

    report = send_outbox_sync(db, load_settings())

    after = _rows(db)
    assert report.found_at_provider == 1
    assert report.sent == 2
    assert after[0].provider_sid == "SM" + "a" * 32
    assert _accepted_keys(twilio_env) == Counter(
        ("messages", phone(n)) for n in range(2)
    )


def test_drain_of_one_village_leaves_others(db, twilio_env):
    seed_alert(db, subscribers=1, village_id="v1")
    seed_alert(db, subscribers=1, village_id="v2", first_phone=5)

    report = send_outbox_sync(db, load_settings(), village_id="v2")

    assert report.sent == 1
    assert [a.to for a in twilio_env.state.accepted] == [phone(5)]
    assert _statuses(db) == {"sent": 1, "queued": 1}


def test_rate_is_kept_per_sender(db, twilio_env, monkeypatch):
    monkeypatch.setenv("ARGUS_TWILIO_MESSAGES_PER_S", "5")
    seed_alert(db, subscribers=6, channels="sms;whatsapp")
    started = time.time()

    send_outbox_sync(db, load_settings())

    by_sender = {}
    for accepted in twilio_env.state.accepted:
        by_sender.setdefault(accepted.from_, []).append(accepted.accepted_at)
    assert sorted(by_sender) == ["+15005550006", "whatsapp:+15005550007"]
    for times in by_sender.values():
        # The sixth request of a sender starts five intervals of 1/5 s after
        # its first, which starts after the drain did: 1 s, far more than the
        # rest of the drain takes.
        assert len(times) == 6
        assert max(times) - started >= 5 / 5
