"""A cycle with no recent history requests days of CWC series, then only hours."""

# The fake's fixture is imported, so pytest finds it; test arguments of the
# same name are its uses, not redefinitions.
# ruff: noqa: F401, F811

import json
from datetime import UTC, datetime, timedelta

from argus.cycle import ingest_gauges, refresh_stations, series_start
from argus.settings import Settings
from argus.sources.cwc_payload import IST
from argus.sources.gauges import LiveCwcSource
from argus.storage.cycles import open_cycle
from argus.storage.db import session_scope
from argus.storage.observations import newest_observed_at
from tests.fake_ffs import FakeFfsServer, fake_ffs_server

CYCLE_AT = datetime(2026, 7, 29, 6, 0, tzinfo=UTC)


def _series_starts(fake: FakeFfsServer) -> set[str]:
    specs = [
        json.loads(r.specification) for r in fake.state.requests_to("new-entry-data/")
    ]
    return {spec["and"]["expression"]["value"] for spec in specs}


def _ffs_time(moment: datetime) -> str:
    return moment.astimezone(IST).strftime("%Y-%m-%dT%H:%M:%S.000")


def _cycle(engine, source, settings, cycle_at):
    with session_scope(engine) as session:
        cycle_id = open_cycle(session, cycle_at=cycle_at, mode="live")
    return ingest_gauges(
        engine, source, cycle_id=cycle_id, cycle_at=cycle_at, settings=settings
    )


def test_first_cycle_backfills_then_looks_back(engine, database_url, fake_ffs_server):
    settings = Settings(
        database_url=database_url, cwc_base_url=fake_ffs_server.url, http_attempts=1
    )
    source = LiveCwcSource(settings)
    refresh_stations(engine, source)

    first = _cycle(engine, source, settings, CYCLE_AT)
    backfill_starts = _series_starts(fake_ffs_server)
    fake_ffs_server.state.requests.clear()
    later = CYCLE_AT + timedelta(minutes=5)
    _cycle(engine, source, settings, later)

    assert first.observations_stored > 0
    assert backfill_starts == {_ffs_time(CYCLE_AT - timedelta(hours=240))}
    assert _series_starts(fake_ffs_server) <= {_ffs_time(later - timedelta(hours=12))}
    with session_scope(engine) as session:
        assert newest_observed_at(session).tzinfo is not None


def test_series_start_rules():
    settings = Settings(series_lookback_h=12, series_backfill_h=240)
    lookback = CYCLE_AT - timedelta(hours=12)

    assert series_start(CYCLE_AT, None, settings) == CYCLE_AT - timedelta(hours=240)
    assert series_start(CYCLE_AT, CYCLE_AT - timedelta(hours=1), settings) == lookback
    outage = CYCLE_AT - timedelta(hours=50)
    assert series_start(CYCLE_AT, outage, settings) == outage
    long_ago = CYCLE_AT - timedelta(days=30)
    assert series_start(CYCLE_AT, long_ago, settings) == CYCLE_AT - timedelta(hours=240)
