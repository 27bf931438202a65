"""Tests of the live CWC FFS client against the local fake FFS server."""

# The fake's fixture is imported, so pytest finds it; test arguments of the
# same name are its uses, not redefinitions.
# ruff: noqa: F401, F811

import gzip
import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from argus.errors import PayloadError, SourceUnavailable
from argus.sources.cwc_ffs import CwcFfsClient
from argus.sources.cwc_payload import parse_snapshot
from tests.fake_ffs import DEFAULT_SNAPSHOT, FakeFfsServer, fake_ffs_server

SINCE = datetime(2026, 7, 29, 0, 0, tzinfo=UTC)
KEY = ["station_code", "observed_at", "datatype", "level_raw"]


def client(url: str, **options: float) -> CwcFfsClient:
    settings = {"timeout_s": 2.0, "retries": 2, "backoff_s": 0.01} | options
    return CwcFfsClient(url, **settings)


def test_fetch_batch_equals_parsed_snapshot(
    fake_ffs_server: FakeFfsServer, shared_data: Path
) -> None:
    path = shared_data / "cwc_ffs" / "snapshots" / DEFAULT_SNAPSHOT
    recorded = parse_snapshot(
        json.loads(gzip.decompress(path.read_bytes())), source="x"
    )
    with client(fake_ffs_server.url) as ffs:
        batch = ffs.fetch_batch(since=SINCE)

    # the live path reads series only for stations in the latest levels:
    # 048-MBDGHY and 078-UBDDIB have series in this poll but no latest level
    expected = recorded.observations
    expected = expected[~expected["station_code"].isin(["048-MBDGHY", "078-UBDDIB"])]
    live = batch.observations.sort_values(KEY).reset_index(drop=True)
    assert len(live) == len(expected) == 901
    assert live[KEY].equals(expected.sort_values(KEY)[KEY].reset_index(drop=True))
    assert batch.failures == []
    assert len(batch.above_warning) == 6
    assert batch.official_forecasts.equals(recorded.official_forecasts)
    assert len(batch.sources_read) == 1 + 80 + 2  # 80 stations newer than SINCE


def test_fetch_batch_query_form(fake_ffs_server: FakeFfsServer) -> None:
    with client(fake_ffs_server.url) as ffs:
        ffs.fetch_batch(since=SINCE, station_codes=["002-lbdjpg", "024- MDSIL"])

    state = fake_ffs_server.state
    latest = json.loads(state.requests_to("new-entry-data-aggregate")[0].specification)
    assert latest["where"]["expression"] == {
        "valueIsRelationField": False,
        "fieldName": "id.datatypeCode",
        "operator": "eq",
        "value": "HHS",
    }
    assert latest["and"]["expression"]["value"] == "Level,Inflow,Base"
    series = [json.loads(r.specification) for r in state.requests_to("new-entry-data/")]
    assert sorted(s["where"]["expression"]["value"] for s in series) == [
        "002-LBDJPG",
        "024- MDSIL",
    ]
    assert series[0]["and"]["expression"]["value"] == "2026-07-29T05:30:00.000"


def test_fetch_batch_respects_concurrency(fake_ffs_server: FakeFfsServer) -> None:
    fake_ffs_server.state.delay_s = 0.01
    with client(fake_ffs_server.url, concurrency=3) as ffs:
        batch = ffs.fetch_batch(since=SINCE)
    assert batch.failures == []
    assert fake_ffs_server.state.max_in_flight() == 3


def test_retries_after_server_errors(fake_ffs_server: FakeFfsServer) -> None:
    fake_ffs_server.state.fail("new-entry-data-aggregate", "500", times=2)
    with client(fake_ffs_server.url) as ffs:
        batch = ffs.fetch_batch(since=SINCE, station_codes=["002-LBDJPG"])
    assert len(fake_ffs_server.state.requests_to("new-entry-data-aggregate")) == 3
    assert batch.failures == []


def test_backbone_failing_after_retries_is_unavailable(
    fake_ffs_server: FakeFfsServer,
) -> None:
    fake_ffs_server.state.fail("new-entry-data-aggregate", "500")
    with (
        client(fake_ffs_server.url, retries=1) as ffs,
        pytest.raises(SourceUnavailable, match=r"could not be reached: HTTP 500"),
    ):
        ffs.fetch_batch(since=SINCE)


def test_unreachable_site_raises_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    with client(url) as ffs, pytest.raises(SourceUnavailable) as caught:
        ffs.fetch_batch(since=SINCE)
    assert time.monotonic() - started < 2.0
    message = str(caught.value)
    assert f"CWC FFS at {url} could not be reached" in message
    assert "\n" not in message


def test_hanging_call_times_out_into_failures(fake_ffs_server: FakeFfsServer) -> None:
    fake_ffs_server.state.fail("station-water-level-above-warning", "hang")
    with client(fake_ffs_server.url, timeout_s=0.2, retries=0) as ffs:
        batch = ffs.fetch_batch(since=SINCE, station_codes=["002-LBDJPG"])
    assert batch.above_warning is None
    [failure] = batch.failures
    assert isinstance(failure, SourceUnavailable)
    assert failure.source == "station-water-level-above-warning"
    assert len(batch.official_forecasts) == 6


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        ("html", "answer is an HTML page, not JSON"),
        ("truncated", "answer is invalid JSON"),
        ("not_utf8", "answer is not UTF-8"),
        ("empty", "empty body"),
    ],
)
def test_bad_answers_become_payload_errors(
    fake_ffs_server: FakeFfsServer, mode: str, cause: str
) -> None:
    fake_ffs_server.state.fail("new-entry-data/", mode, times=1)
    with client(fake_ffs_server.url) as ffs:
        batch = ffs.fetch_batch(since=SINCE, station_codes=["002-LBDJPG", "001-MBDGHY"])
    [failure] = batch.failures
    assert isinstance(failure, PayloadError)
    assert failure.source == "new-entry-data"
    assert cause in failure.cause
    assert "new-entry-data[" in " ".join(batch.sources_read)

    fake_ffs_server.state.fail("new-entry-data-aggregate", mode, times=1)
    with client(fake_ffs_server.url) as ffs, pytest.raises(PayloadError, match=cause):
        ffs.fetch_batch(since=SINCE)


def test_in_with_a_list_gets_400_and_is_not_retried(
    fake_ffs_server: FakeFfsServer,
) -> None:
    spec = {
        "where": {
            "expression": {
                "valueIsRelationField": False,
                "fieldName": "type",
                "operator": "in",
                "value": ["Level", "Base"],
            }
        }
    }
    url = f"{fake_ffs_server.url}/iam/api/flood-forecast-static/specification/"
    answer = httpx.get(url, params={"specification": json.dumps(spec)})
    assert answer.status_code == 400
    assert httpx.get(url, params={"specification": "{where"}).status_code == 400

    path = "/iam/api/flood-forecast-static/specification/"
    with (
        client(fake_ffs_server.url) as ffs,
        pytest.raises(PayloadError, match="HTTP 400"),
    ):
        ffs._get(path, {"specification": "{"})
    assert len(fake_ffs_server.state.requests_to("flood-forecast-static")) == 3


def test_fetch_stations_from_reference_tables(
    fake_ffs_server: FakeFfsServer, caplog: pytest.LogCaptureFixture
) -> None:
    with client(fake_ffs_server.url) as ffs:
        stations = ffs.fetch_stations()
    # 1521 all-India rows + 53 Assam-only rows, less one repeated code
    assert len(stations) == 1573
    assert "'045-HDCHENNAI' and '045-hd chennai'" in caplog.text
    guwahati = stations.set_index("station_code").loc["001-MBDGHY"]
    assert guwahati["danger_level_m"] == 49.68
    assert guwahati["highest_flood_level_m"] == 51.46
    assert guwahati["station_type"] == "Level"
