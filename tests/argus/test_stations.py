"""Tests of argus.stations on the recorded station files."""

import json
import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from argus.errors import InputError
from argus.stations import (
    STATION_COLUMNS,
    normalise_station_code,
    read_stations_file,
    stations_from_reference_tables,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("024- MDSIL", "024-MDSIL"),
        ("025 - MDSIL", "025-MDSIL"),
        (" 012-ubddib ", "012-UBDDIB"),
        ("bv000f5", "BV000F5"),
        ("045-hd chennai", "045-HDCHENNAI"),
    ],
)
def test_normalise_station_code_cases(raw: str, expected: str) -> None:
    assert normalise_station_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", None, 12])
def test_normalise_station_code_rejects_empty_or_non_text(raw: object) -> None:
    with pytest.raises(ValueError, match=r"station code .* (empty|not text)"):
        normalise_station_code(raw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def assam(shared_data: Path) -> pd.DataFrame:
    return read_stations_file(shared_data / "cwc_ffs" / "stations_assam.json")


def test_read_stations_file_counts_match_data_readme(assam: pd.DataFrame) -> None:
    assert list(assam.columns) == list(STATION_COLUMNS)
    assert len(assam) == 169
    assert assam["station_code"].is_unique
    assert assam["warning_level_m"].isna().sum() == 78
    assert assam["danger_level_m"].isna().sum() == 72
    assert assam["highest_flood_level_m"].isna().sum() == 13
    below = assam["highest_flood_level_m"] < assam["danger_level_m"]
    assert below.sum() == 21
    assert assam["station_type"].value_counts().to_dict() == {
        "Base": 129,
        "Level": 37,
        "Inflow": 3,
    }


def test_read_stations_file_keeps_both_dudhnoi_codes(assam: pd.DataFrame) -> None:
    rows = assam.set_index("station_code").loc[["BV000FS", "BV000F5"]]
    assert rows["name"].tolist() == ["Dudhnoi", "DUDHNAI"]
    assert rows["station_code_raw"].tolist() == ["BV000FS", "bv000f5"]


def test_read_stations_file_values_of_pandu(assam: pd.DataFrame) -> None:
    pandu = assam.set_index("station_code").loc["025-MBDGHY"]
    assert math.isnan(pandu["warning_level_m"])
    assert math.isnan(pandu["danger_level_m"])
    assert pandu["highest_flood_level_m"] == 49.88
    chiripool = assam.set_index("station_code").loc["024-MDSIL"]
    assert chiripool["station_code_raw"] == "024- MDSIL"
    assert chiripool["lat"] == pytest.approx(24.80388888888889)
    assert chiripool["lon"] == pytest.approx(93.02055555555556)


def test_read_stations_file_repeated_code_keeps_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stations = {
        "024- MDSIL": {"site_name": "CHIRIPOOL", "coordinates": [93.0, 24.8]},
        "024-mdsil": {"site_name": "other", "coordinates": [1.0, 2.0]},
    }
    path = tmp_path / "stations.json"
    path.write_text(json.dumps({"stations": stations}))
    with caplog.at_level(logging.WARNING, logger="argus.stations"):
        frame = read_stations_file(path)
    assert frame["name"].tolist() == ["CHIRIPOOL"]
    assert "'024- MDSIL' and '024-mdsil'" in caplog.text


def test_read_stations_file_rejects_other_json(tmp_path: Path) -> None:
    path = tmp_path / "stations.json"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match=r"stations\.json.* no 'stations' object"):
        read_stations_file(path)


def test_stations_from_reference_tables_marks_types() -> None:
    static = [
        {
            "stationCode": "002-LBDJPG",
            "type": "Level",
            "warningLevel": 44.1,
            "dangerLevel": 45.1,
            "highestFlowLevel": 46.2,
            "highestFlowLevelDate": "2004-07-21",
        },
        {"stationCode": "024- MDSIL", "type": "Base", "warningLevel": None},
        {"stationCode": "X1", "type": "Other"},
        {"type": "Level"},
    ]
    geo = [{"stationCode": "024-MDSIL", "name": "CHIRIPOOL", "lat": 24.8, "lon": 93.0}]
    frame = stations_from_reference_tables(static, geo)
    assert frame["station_code"].tolist() == ["002-LBDJPG", "024-MDSIL"]
    assert frame["station_type"].tolist() == ["Level", "Base"]
    assert frame["danger_level_m"].iloc[0] == 45.1
    assert math.isnan(frame["warning_level_m"].iloc[1])
    assert frame["name"].iloc[1] == "CHIRIPOOL"
    assert math.isnan(frame["lat"].iloc[0])


def test_stations_from_reference_tables_rejects_non_list() -> None:
    with pytest.raises(ValueError, match="flood-forecast-static has type dict"):
        stations_from_reference_tables({"a": 1}, [])  # type: ignore[arg-type]
