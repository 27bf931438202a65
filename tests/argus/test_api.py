"""``argus api``: Twilio's webhooks with signature checks, delivery states, replies."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlmodel import select
from twilio.request_validator import RequestValidator

from argus.api import create_app
from argus.errors import ConfigurationError
from argus.sending.outbox import Outcome, record_outcomes
from argus.settings import load_settings
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import (
    Acknowledgement,
    CitizenReport,
    DeliveryEvent,
    HelpRequest,
    InboundMessage,
    Outbox,
    Subscriber,
)
from tests.argus.sending.seed import phone, seed_alert
from tests.fake_twilio import AUTH_TOKEN

STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"


@contextmanager
def serving(settings) -> Iterator[httpx.Client]:
    """Serve the API with uvicorn on 127.0.0.1 and a free port."""
    engine = engine_for(settings.resolved_database_url)
    config = uvicorn.Config(
        create_app(settings, engine), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("argus api did not start within 20 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.engine = engine
        yield client
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def api(argus_env, monkeypatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("ARGUS_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    with serving(load_settings()) as client:
        yield client


def _signed(params: dict, url: str, token: str = AUTH_TOKEN) -> dict:
    signature = RequestValidator(token).compute_signature(url, params)
    return {"X-Twilio-Signature": signature}


def _post(client, path: str, params: dict, *, url: str | None = None):
    headers = _signed(params, url or f"{client.base_url}{path}")
    return client.post(path, data=params, headers=headers)


def _sent_row(engine, sid: str) -> int:
    """Send the first queued row's bookkeeping as a sender would, with ``sid``."""
    claimed_at = datetime.now(UTC)
    with session_scope(engine) as session:
        row = session.exec(select(Outbox).order_by(Outbox.id)).first()
        row.status = "sending"
        row.sending_started_at = claimed_at
        outbox_id = row.id
    with session_scope(engine) as session:
        record_outcomes(
            session,
            [Outcome(outbox_id, claimed_at, "sent", attempts=1, provider_sid=sid)],
        )
    return outbox_id


def _count(engine, table) -> int:
    with session_scope(engine) as session:
        return session.exec(select(sa.func.count()).select_from(table)).one()


def test_api_needs_the_auth_token(argus_env):
    settings = load_settings()
    with pytest.raises(ConfigurationError, match="ARGUS_TWILIO_AUTH_TOKEN"):
        create_app(settings, engine_for(settings.resolved_database_url))


def test_status_callback_records_delivery(api):
    seed_alert(api.engine, subscribers=1)
    outbox_id = _sent_row(api.engine, "SM1")

    answer = _post(api, STATUS, {"MessageSid": "SM1", "MessageStatus": "delivered"})

    assert answer.status_code == 204
    with session_scope(api.engine) as session:
        row = session.get(Outbox, outbox_id)
        (event,) = session.exec(select(DeliveryEvent)).all()
    assert row.delivery_status == "delivered"
    assert event.outbox_id == outbox_id
    assert event.status == "delivered"


def test_late_status_does_not_go_back(api):
    seed_alert(api.engine, subscribers=1)
    outbox_id = _sent_row(api.engine, "SM1")

    for status in ("delivered", "sent", "delivered"):
        _post(api, STATUS, {"MessageSid": "SM1", "MessageStatus": status})

    with session_scope(api.engine) as session:
        assert session.get(Outbox, outbox_id).delivery_status == "delivered"
    assert _count(api.engine, DeliveryEvent) == 2


def test_early_status_is_linked_later(api):
    seed_alert(api.engine, subscribers=1)
    _post(api, STATUS, {"CallSid": "CA1", "CallStatus": "completed"})

    outbox_id = _sent_row(api.engine, "CA1")

    with session_scope(api.engine) as session:
        (event,) = session.exec(select(DeliveryEvent)).all()
        assert event.outbox_id == outbox_id
        assert session.get(Outbox, outbox_id).delivery_status == "completed"


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_unsigned_request_is_rejected(api, path):
    seed_alert(api.engine, subscribers=1)
    params = {"MessageSid": "SM9", "MessageStatus": "delivered", "From": phone(0)}

    answer = api.post(path, data={**params, "Body": "STOP"})

    assert answer.status_code == 403
    assert _count(api.engine, DeliveryEvent) == 0
    assert _count(api.engine, InboundMessage) == 0


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_forged_request_is_rejected(api, path):
    seed_alert(api.engine, subscribers=1)
    params = {"MessageSid": "SM9", "MessageStatus": "failed", "From": phone(0)}
    params["Body"] = "STOP"
    url = f"{api.base_url}{path}"
    forged = _signed(params, url, token="not-the-token")
    tampered = _signed({**params, "Body": "SAFE"}, url)

    first = api.post(path, data=params, headers=forged)
    second = api.post(path, data=params, headers=tampered)

    assert first.status_code == 403
    assert second.status_code == 403
    assert _count(api.engine, DeliveryEvent) == 0
    assert _count(api.engine, InboundMessage) == 0
    with session_scope(api.engine) as session:
        assert session.exec(select(Subscriber.opted_out)).all() == [False]


def test_signature_is_checked_against_the_public_url(argus_env, monkeypatch):
    monkeypatch.setenv("ARGUS_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("ARGUS_PUBLIC_URL", "https://argus.example.org/")
    params = {"MessageSid": "SM1", "MessageStatus": "sent"}

    with serving(load_settings()) as client:
        public = _post(client, STATUS, params, url="https://argus.example.org" + STATUS)
        local = _post(client, STATUS, params)

    assert public.status_code == 204
    assert local.status_code == 403


@pytest.mark.parametrize("word", ["STOP", "stop.", "বন্ধ"])
def test_stop_opts_out_and_cancels_queued(api, word):
    seed_alert(api.engine, subscribers=2)

    answer = _post(api, INBOUND, {"MessageSid": "SM5", "From": phone(0), "Body": word})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    # The subscriber's language is Assamese, so the response is too.
    assert "বানপানীৰ" in answer.text
    with session_scope(api.engine) as session:
        people = {p.phone: p for p in session.exec(select(Subscriber)).all()}
        rows = {r.subscriber_id: r for r in session.exec(select(Outbox)).all()}
        (inbound,) = session.exec(select(InboundMessage)).all()
    assert people[phone(0)].opted_out
    assert people[phone(0)].opted_out_at is not None
    assert not people[phone(1)].opted_out
    assert rows[people[phone(0)].id].status == "cancelled"
    assert rows[people[phone(1)].id].status == "queued"
    assert inbound.intent == "stop"
    assert phone(0) not in inbound.sender_key


def test_start_after_stop_opts_in(api):
    seed_alert(api.engine, subscribers=1)

    _post(api, INBOUND, {"MessageSid": "SM1", "From": phone(0), "Body": "STOP"})
    _post(api, INBOUND, {"MessageSid": "SM2", "From": phone(0), "Body": "START"})

    with session_scope(api.engine) as session:
        person = session.exec(select(Subscriber)).one()
    assert not person.opted_out
    assert person.opted_out_at is None


@pytest.mark.parametrize("word", ["1", "১", "SAFE", "সুৰক্ষিত"])
def test_ack_marks_the_latest_alert(api, word):
    seed_alert(api.engine, subscribers=1)

    _post(api, INBOUND, {"MessageSid": "SM1", "From": phone(0), "Body": word})

    with session_scope(api.engine) as session:
        (ack,) = session.exec(select(Acknowledgement)).all()
    assert ack.alert_id == 1
    assert ack.subscriber_id == 1


def test_help_from_whatsapp_raises_a_request(api):
    seed_alert(api.engine, subscribers=1, channels="whatsapp")
    params = {"MessageSid": "SM1", "From": f"whatsapp:{phone(0)}", "Body": "সহায় লাগে"}

    _post(api, INBOUND, params)

    with session_scope(api.engine) as session:
        (request,) = session.exec(select(HelpRequest)).all()
        (inbound,) = session.exec(select(InboundMessage)).all()
    assert request.village_id == "v0"
    assert request.status == "open"
    assert inbound.channel == "whatsapp"


@pytest.mark.parametrize(
    ("body", "depth_m"), [("WATER 40", 0.4), ("পানী ৬০", 0.6), ("water 1.2m", 1.2)]
)
def test_water_report_stores_depth(api, body, depth_m):
    seed_alert(api.engine, subscribers=1)

    _post(api, INBOUND, {"MessageSid": "SM1", "From": phone(0), "Body": body})

    with session_scope(api.engine) as session:
        (inbound,) = session.exec(select(InboundMessage)).all()
        (report,) = session.exec(select(CitizenReport)).all()
    assert inbound.intent == "water_report"
    assert inbound.water_depth_m == pytest.approx(depth_m)
    assert report.depth_m == pytest.approx(depth_m)
    assert report.source == "sms"
    assert report.village_id is not None
    assert phone(0).lstrip("+") not in report.reporter_key


def test_unknown_number_is_stored_without_answer(api, caplog):
    caplog.set_level(logging.INFO)
    params = {"MessageSid": "SM1", "From": "+919999999999", "Body": "STOP"}

    answer = _post(api, INBOUND, params)

    with session_scope(api.engine) as session:
        (inbound,) = session.exec(select(InboundMessage)).all()
    assert "<Message>" not in answer.text
    assert inbound.subscriber_id is None
    assert "+919999999999" not in caplog.text


def test_repeated_webhook_is_stored_once(api):
    seed_alert(api.engine, subscribers=1)
    params = {"MessageSid": "SM1", "From": phone(0), "Body": "HELP"}

    _post(api, INBOUND, params)
    _post(api, INBOUND, params)

    assert _count(api.engine, InboundMessage) == 1
    assert _count(api.engine, HelpRequest) == 1
