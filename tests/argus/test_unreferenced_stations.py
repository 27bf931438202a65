"""Tests of the placeholder stations for gauges the station reference lacks."""

import csv

import pandas as pd
import pytest

from argus.stations import normalise_station_code
from argus.storage.db import session_scope
from argus.storage.observations import load_stations
from argus.unreferenced_stations import (
    NO_REFERENCE_STATUS,
    is_plausible_station_code,
    placeholder_stations,
    register_accepted,
)


def test_every_all_india_code_plausible(shared_data):
    path = shared_data / "cwc_ffs" / "stations_all_india_thresholds.csv"
    with path.open(newline="") as handle:
        codes = [row["stationCode"] for row in csv.DictReader(handle)]
    assert len(codes) == 1521
    rejected = [
        c for c in codes if not is_plausible_station_code(normalise_station_code(c))
    ]
    assert rejected == []


@pytest.mark.parametrize(
    "code", ["", "NULL", "NONE", "NAN", "-", "A", "<HTML>", "001/ABC", "X" * 21, "-001"]
)
def test_garbage_code_implausible(code):
    assert not is_plausible_station_code(code)


def _candidates(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["station_code", "station_code_raw", "observed_at", "source"]
    ).astype({"observed_at": "datetime64[us, UTC]"})


def test_placeholders_only_for_new_plausible_codes(engine):
    with session_scope(engine) as session:
        stations = load_stations(session)
    stations = pd.concat(
        [stations, pd.DataFrame({"station_code": ["001-OLD"]})], ignore_index=True
    )
    candidates = _candidates(
        ("900-NEW", " 900-new", "2026-07-27T10:00Z", "b.json.gz:series"),
        ("900-NEW", " 900-new", "2026-07-27T09:00Z", "a.json.gz:series"),
        ("001-OLD", "001-OLD", "2026-07-27T09:00Z", "a.json.gz:series"),
        ("NULL", "null", "2026-07-27T09:00Z", "a.json.gz:series"),
        ("", "", "2026-07-27T09:00Z", "a.json.gz:series"),
    )

    placeholders = placeholder_stations(candidates, stations)

    assert placeholders["station_code"].tolist() == ["900-NEW"]
    row = placeholders.iloc[0]
    assert row["station_code_raw"] == " 900-new"
    assert row["threshold_status"] == NO_REFERENCE_STATUS
    assert row["source"] == "a.json.gz:series"
    assert "a.json.gz:series" in row["threshold_note"]
    assert pd.isna(row["danger_level_m"])
    assert pd.isna(row["lat"])


def test_register_only_codes_with_accepted_rows(engine):
    with session_scope(engine) as session:
        stations = load_stations(session)
    candidates = _candidates(
        ("900-NEW", "900-new", "2026-07-27T09:00Z", "a.json.gz:series"),
        ("901-REJECTED", "901-rejected", "2026-07-27T09:00Z", "a.json.gz:series"),
    )
    placeholders = placeholder_stations(candidates, stations)

    with session_scope(engine) as session:
        registered = register_accepted(session, placeholders, candidates.iloc[:1])
    with session_scope(engine) as session:
        stored = load_stations(session)

    assert registered == {"900-new": "a.json.gz:series"}
    assert stored["station_code"].tolist() == ["900-NEW"]
    assert stored["threshold_status"].tolist() == [NO_REFERENCE_STATUS]
    assert stored["river"].isna().all()
