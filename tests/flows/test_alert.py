"""The alert subflow records the alert, queues its messages and sends them."""

import pytest
from prefect import flow
from prefect.utilities.asyncutils import run_coro_as_sync

from argus.settings import load_settings
from argus.storage.db import engine_for
from flows.alert import alert_villages
from tests.argus.sending.seed import CYCLE_AT, phone, seed_subscribers

CHANGE = {
    "village_id": "v1",
    "level": "EMERGENCY",
    "previous_level": "WARNING",
    "reasons": ["reading 28.9 m >= danger level 28.6 m"],
    "station_code": "020-MBDGHY",
}


@flow
def two_cycles_of_one_change() -> list[dict]:
    """The same change twice, as a retried nowcast run would pass it."""
    return [run_coro_as_sync(alert_villages([CHANGE], CYCLE_AT))[0] for _ in "ab"]


@pytest.mark.usefixtures("prefect_harness")
def test_subflow_sends_the_village_messages_once(twilio_env):
    engine = engine_for(load_settings().resolved_database_url)
    seed_subscribers(engine, subscribers=3, channels="sms;voice", village_id="v1")

    first, again = two_cycles_of_one_change()

    accepted = sorted((a.kind, a.to) for a in twilio_env.state.accepted)
    assert first["outbox_queued"] == 3
    assert first["outbox_sent"] == 3
    assert again["alert_created"] is False
    assert again["outbox_sent"] == 0
    assert accepted == [("messages", phone(n)) for n in range(3)]
