"""Tests of argus.sources.cwc_payload: real snapshot rows and hand-made edges."""

import gzip
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from argus.errors import PayloadError
from argus.sources.cwc_payload import (
    FORECAST_COLUMNS,
    OBSERVATION_COLUMNS,
    format_ffs_time,
    parse_above_warning,
    parse_ffs_time,
    parse_forecasts,
    parse_latest_levels,
    parse_series,
    parse_snapshot,
)


@pytest.fixture(scope="module")
def snapshot(shared_data: Path) -> dict:
    path = shared_data / "cwc_ffs" / "snapshots" / "ffs_2026-07-30T1400.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def test_parse_ffs_time_offsetless_is_ist() -> None:
    moment = parse_ffs_time("2026-07-30T02:00:00")
    assert moment == pd.Timestamp("2026-07-29T20:30:00Z")
    assert parse_ffs_time("2026-07-30T12:05:00+05:30") == pd.Timestamp(
        "2026-07-30T06:35:00Z"
    )
    assert parse_ffs_time("2026-07-30T02:00:00Z") == pd.Timestamp("2026-07-30T02:00Z")
    assert parse_ffs_time("yesterday") is None
    assert parse_ffs_time(None) is None


def test_format_ffs_time_writes_ist_with_milliseconds() -> None:
    moment = pd.Timestamp("2026-07-30T08:30:00Z").to_pydatetime()
    assert format_ffs_time(moment) == "2026-07-30T14:00:00.000"


def test_parse_snapshot_counts(snapshot: dict) -> None:
    batch = parse_snapshot(snapshot, source="ffs_2026-07-30T1400.json.gz")
    observations = batch.observations
    assert list(observations.columns) == list(OBSERVATION_COLUMNS)
    assert len(observations) == 924  # 853 series + 151 latest, 80 identical
    assert str(observations["observed_at"].dtype) == "datetime64[us, UTC]"
    assert observations["datatype"].value_counts().to_dict() == {"HHS": 924}
    assert batch.above_warning is not None
    assert batch.above_warning["station_code"].tolist()[:2] == [
        "002-LBDJPG",
        "008-UBDDIB",
    ]
    assert len(batch.official_forecasts) == 6
    assert list(batch.official_forecasts.columns) == list(FORECAST_COLUMNS)


def test_parse_series_keeps_bad_rows_with_raw_text() -> None:
    rows = [
        {"id": {"stationCode": "024- MDSIL", "dataTime": "soon"}, "dataValue": "x"},
        {"id": {"dataTime": "2026-07-30T02:00:00"}, "dataValue": None},
        {
            "id": {"stationCode": "012-ubddib", "dataTime": "2026-07-31T23:00:00"},
            "dataValue": 16.34,
            "datatypeCode": "HZS",
        },
    ]
    frame = parse_series(rows, source="test")
    assert frame["station_code"].tolist() == ["024-MDSIL", "", "012-UBDDIB"]
    assert frame["station_code_raw"].tolist() == ["024- MDSIL", "", "012-ubddib"]
    assert pd.isna(frame["observed_at"].iloc[0])
    assert frame["observed_at_raw"].iloc[0] == "soon"
    assert math.isnan(frame["level_m"].iloc[0])
    assert frame["level_raw"].tolist() == ["x", "", "16.34"]
    assert frame["datatype"].tolist() == ["", "", "HZS"]
    assert frame["observed_at"].iloc[2] == pd.Timestamp("2026-07-31T17:30Z")


def test_parse_latest_levels_reads_row_datatype() -> None:
    rows = [
        {
            "stationCode": "025-MBDGHY",
            "latestDataTime": "2026-08-06T23:00:00",
            "latestDataValue": 4.7,
            "datatypeCode": "HHS",
        }
    ]
    frame = parse_latest_levels(rows, source="test")
    assert frame.loc[0, "level_m"] == 4.7
    assert frame.loc[0, "datatype"] == "HHS"
    assert frame.loc[0, "source"] == "test"


def test_parse_above_warning_empty_means_unknown() -> None:
    assert parse_above_warning([], source="test") is None


def test_parse_forecasts_converts_times(snapshot: dict) -> None:
    frame = parse_forecasts(snapshot["forecasts"], source="test")
    beki = frame[frame["station_code"] == "002-LBDJPG"].iloc[0]
    assert beki["issued_at"] == pd.Timestamp("2026-07-30T06:35Z")
    assert beki["forecast_for"] == pd.Timestamp("2026-07-30T18:30Z")
    assert beki["level_m"] == 44.15
    assert beki["trend"] == "STEADY"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("oops", r"test: has type str, expected a list"),
        ({"002-LBDJPG": 4.86}, r"series of station .002-LBDJPG. is not a list"),
        ([1, 2], r"test: row 0 has type int, not an object"),
        ([{"id": "x"}], r"test: row 0 has an 'id' that is not an object"),
        ([{"title": "Not Found"}], r"test: none of its 1 rows has any of the fields"),
    ],
)
def test_parse_series_rejects_malformed_payload(payload: object, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_series(payload, source="test")


def test_parse_snapshot_rejects_missing_parts() -> None:
    with pytest.raises(PayloadError, match=r"f\.json: lacks the parts \['forecasts'\]"):
        parse_snapshot(
            {"latest_levels": [], "series": {}, "above_warning": []}, source="f.json"
        )
