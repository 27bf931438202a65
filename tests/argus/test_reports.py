"""Citizen reports: stored without phone numbers, placed, corroborated, trusted."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from argus.errors import InputError
from argus.reports import corroborate, record_citizen_report, reporter_key
from argus.settings import Settings
from argus.storage.db import session_scope
from argus.storage.source_tables import CitizenReport
from argus.storage.villages import upsert_villages
from argus.trust import apply_evidence, load_trust
from argus.village_sources import source_evidence, village_sources

SECRET = "test-secret"
CYCLE_AT = datetime.fromisoformat("2026-08-01T12:00+05:30")
PHONE = "+91 98000 00001"
# Two villages 1.1 km apart and one 30 km away (made-up places near Barpeta).
VILLAGES = pd.DataFrame(
    {
        "village_id": ["v/a", "v/b", "v/far"],
        "name": ["A", "B", "Far"],
        "lat": [26.3200, 26.3300, 26.6000],
        "lon": [91.0000, 91.0000, 91.0000],
        "district": ["Barpeta"] * 3,
        "revenue_circle": [None] * 3,
        "place_kind": ["village"] * 3,
    }
)


@pytest.fixture
def villages(engine):
    with session_scope(engine) as session:
        upsert_villages(session, VILLAGES, source="test")


def _report(session, reporter=PHONE, minutes_before=30, **values):
    values.setdefault("village_id", "v/a")
    values.setdefault("depth_m", 0.4)
    return record_citizen_report(
        session,
        reporter=reporter,
        reported_at=CYCLE_AT - timedelta(minutes=minutes_before),
        secret=SECRET,
        **values,
    )


def test_phone_number_is_never_stored(engine, villages):
    with session_scope(engine) as session:
        _report(session)
        row = session.exec(select(CitizenReport)).one()

    stored = " ".join(str(value) for value in row.model_dump().values())
    assert "98000" not in stored
    assert row.reporter_key == reporter_key("+919800000001", secret=SECRET)
    assert row.lat == 26.32


def test_unknown_village_is_named(engine, villages):
    with (
        session_scope(engine) as session,
        pytest.raises(InputError, match="village 'node/0' not found"),
    ):
        _report(session, village_id="node/0")


def test_position_goes_to_nearest_village(engine, villages):
    with session_scope(engine) as session:
        near = _report(session, village_id=None, lat=26.3290, lon=91.001)
        nowhere = _report(session, village_id=None, lat=26.45, lon=91.0)

    assert near.village_id == "v/b"
    assert nowhere.village_id is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"depth_m": 40.0}, "water depth 40.0 m is outside 0..20 m"),
        ({"depth_m": None, "flag": "wet"}, "flag 'wet' is invalid"),
        ({"flag": "flooded"}, "either a water depth or a flag, not both"),
        ({"village_id": None}, "needs a village id or a position"),
        ({"source": "fax"}, "report source 'fax' is invalid"),
        ({"village_id": None, "lat": 95.0, "lon": 91.0}, "is not on Earth"),
    ],
)
def test_invalid_report_names_the_value(engine, villages, values, message):
    with session_scope(engine) as session, pytest.raises(InputError, match=message):
        _report(session, **values)


def test_report_from_the_future_is_rejected(engine, villages):
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    with (
        session_scope(engine) as session,
        pytest.raises(InputError, match="is in the future"),
    ):
        record_citizen_report(
            session,
            reporter=PHONE,
            reported_at=tomorrow,
            secret=SECRET,
            village_id="v/a",
            depth_m=0.2,
        )


def test_corroboration_counts_distinct_reporters():
    reports = pd.DataFrame(
        {
            "lat": [26.32, 26.32, 26.321, 26.6],
            "lon": [91.0, 91.0, 91.0, 91.0],
            "reporter_key": ["x", "x", "y", "z"],
        }
    )

    counted = corroborate(reports, radius_km=2.0)

    assert counted["reporters_nearby"].tolist() == [2, 2, 2, 1]


def _sources(engine, tmp_path):
    settings = Settings(home=tmp_path / "home")
    refs = VILLAGES[["village_id"]].assign(station_code=None)
    with session_scope(engine) as session:
        sources = village_sources(
            session, refs, cycle_at=CYCLE_AT, settings=settings
        ).set_index("village_id")
        evidence = source_evidence(
            session, sources.reset_index(), cycle_at=CYCLE_AT, settings=settings
        )
    return sources, evidence


def test_one_person_many_reports_counts_once(engine, villages, tmp_path):
    with session_scope(engine) as session:
        for minutes in (10, 20, 30, 40, 50):
            _report(session, minutes_before=minutes, depth_m=1.5)

    sources, _ = _sources(engine, tmp_path)

    assert sources.loc["v/a", "citizen_reporters"] == 1
    assert sources.loc["v/a", "citizen_trust"] == pytest.approx(0.2)
    assert sources.loc["v/a", "citizen_severity"] == 3


def test_two_reporters_are_trusted_together(engine, villages, tmp_path):
    with session_scope(engine) as session:
        _report(session, depth_m=0.4)
        _report(session, reporter="+919800000002", depth_m=0.5)

    sources, _ = _sources(engine, tmp_path)

    assert sources.loc["v/a", "citizen_reporters"] == 2
    assert sources.loc["v/a", "citizen_trust"] == pytest.approx(0.36)
    assert sources.loc["v/a", "citizen_severity"] == 2
    assert pd.isna(sources.loc["v/b", "citizen_severity"])


def test_old_reports_fall_out_of_the_window(engine, villages, tmp_path):
    with session_scope(engine) as session:
        _report(session, minutes_before=7 * 60)

    sources, _ = _sources(engine, tmp_path)

    assert sources.loc["v/a", "citizen_reporters"] == 0


def test_corroborated_reporter_gains_trust(engine, villages, tmp_path):
    with session_scope(engine) as session:
        _report(session)
        _report(session, reporter="+919800000002", village_id="v/b")
        _report(session, reporter="+919800000003", village_id="v/far")
    _, evidence = _sources(engine, tmp_path)

    with session_scope(engine) as session:
        apply_evidence(session, evidence, at=CYCLE_AT)
        trust = load_trust(session).set_index("source_id")

    alone = "citizen:" + reporter_key("+919800000003", secret=SECRET)
    backed = "citizen:" + reporter_key(PHONE, secret=SECRET)
    assert trust.loc[alone, "score"] == pytest.approx(0.2)
    assert trust.loc[backed, "score"] == pytest.approx(0.21)
    assert "corroborated by 1 other reporter(s) nearby" in trust.loc[backed, "reasons"]
