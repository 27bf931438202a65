"""Observations are idempotent and revision-aware, on SQLite and PostgreSQL."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from argus.sources.cwc_payload import parse_snapshot
from argus.storage import observations as store
from argus.storage.db import session_scope

SNAPSHOT = "ffs_2026-07-30T1400.json.gz"
SINCE = datetime(2026, 7, 1, tzinfo=UTC)
FIRST_CYCLE = datetime(2026, 7, 30, 6, tzinfo=UTC)
LATER_CYCLE = datetime(2026, 7, 31, 6, tzinfo=UTC)


def _candidates(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Candidate rows (station, IST time, level text) in the connector's columns."""
    frame = pd.DataFrame(
        rows, columns=["station_code_raw", "observed_at_raw", "level_raw"]
    )
    frame["station_code"] = frame["station_code_raw"].str.strip().str.upper()
    frame["observed_at"] = (
        pd.to_datetime(frame["observed_at_raw"], errors="coerce")
        .dt.tz_localize("Asia/Kolkata")
        .dt.tz_convert("UTC")
    )
    frame["level_m"] = pd.to_numeric(frame["level_raw"], errors="coerce")
    frame["datatype"] = "HHS"
    frame["source"] = "test"
    return frame


def _judge_all_accepted(
    session, frame: pd.DataFrame, cycle_id: int = 1, cycle_at: datetime = FIRST_CYCLE
) -> int:
    new = store.select_new_candidates(session, frame, as_of=cycle_at)
    return store.store_judged(
        session,
        accepted=new,
        quarantined=new.iloc[0:0].assign(rule=[]),
        cycle_id=cycle_id,
        published_at=cycle_at,
    )


def _judge_all_quarantined(
    session, frame: pd.DataFrame, rule: str, cycle_at: datetime, cycle_id: int = 2
) -> None:
    new = store.select_new_candidates(session, frame, as_of=cycle_at)
    new["rule"] = rule
    new["rules"] = rule
    store.store_judged(
        session,
        accepted=new.iloc[0:0],
        quarantined=new,
        cycle_id=cycle_id,
        published_at=cycle_at,
    )


def test_same_rows_twice_store_nothing_twice(engine):
    rows = _candidates([("002-LBDJPG", "2026-07-30T02:00:00", "43.86")])

    with session_scope(engine) as session:
        first = _judge_all_accepted(session, rows)
    with session_scope(engine) as session:
        second = _judge_all_accepted(session, rows)
        total = store.count_observations(session)

    assert first == 1
    assert second == 0
    assert total == 1


def test_changed_value_becomes_next_revision(engine):
    first = _candidates([("002-LBDJPG", "2026-07-30T02:00:00", "4.86")])
    corrected = _candidates([("002-lbdjpg ", "2026-07-30T02:00:00", "43.86")])

    with session_scope(engine) as session:
        _judge_all_accepted(session, first)
    with session_scope(engine) as session:
        new = store.select_new_candidates(session, corrected, as_of=LATER_CYCLE)
        _judge_all_accepted(session, corrected, cycle_id=2, cycle_at=LATER_CYCLE)
        history = store.load_accepted_history(session, SINCE, as_of=LATER_CYCLE)
        newest = store.newest_revisions(session, SINCE, as_of=LATER_CYCLE)

    assert new["revision"].tolist() == [2]
    assert history["level_m"].tolist() == [43.86]
    assert newest["revision"].tolist() == [2]
    assert history["observed_at"].iloc[0] == pd.Timestamp("2026-07-29T20:30:00Z")


def test_history_sees_only_what_was_published(engine):
    first = _candidates([("002-LBDJPG", "2026-07-30T02:00:00", "4.86")])
    corrected = _candidates([("002-LBDJPG", "2026-07-30T02:00:00", "43.86")])

    with session_scope(engine) as session:
        _judge_all_accepted(session, first)
        _judge_all_accepted(session, corrected, cycle_id=2, cycle_at=LATER_CYCLE)
    with session_scope(engine) as session:
        before = store.load_accepted_history(
            session, SINCE, as_of=FIRST_CYCLE - timedelta(hours=1)
        )
        at_first = store.load_accepted_history(session, SINCE, as_of=FIRST_CYCLE)
        at_later = store.load_accepted_history(session, SINCE, as_of=LATER_CYCLE)

    assert before.empty
    assert at_first["level_m"].tolist() == [4.86]
    assert at_later["level_m"].tolist() == [43.86]


def test_earlier_cycle_after_later_one_stores_revision(engine):
    rows = _candidates([("001-MBDGHY", "2026-07-29T11:00:00", "48.04")])

    with session_scope(engine) as session:
        _judge_all_accepted(session, rows, cycle_at=LATER_CYCLE)
    with session_scope(engine) as session:
        stored = _judge_all_accepted(session, rows, cycle_id=2, cycle_at=FIRST_CYCLE)
        history = store.load_accepted_history(session, SINCE, as_of=FIRST_CYCLE)
    with session_scope(engine) as session:
        again = _judge_all_accepted(session, rows, cycle_id=3, cycle_at=FIRST_CYCLE)

    assert stored == 1
    assert history["level_m"].tolist() == [48.04]
    assert again == 0


def test_rejected_newest_revision_hides_the_hour(engine):
    good = _candidates([("001-MBDGHY", "2026-07-27T11:00:00", "48.04")])
    bad = _candidates([("001-MBDGHY", "2026-07-27T11:00:00", "8.04")])

    with session_scope(engine) as session:
        _judge_all_accepted(session, good)
    with session_scope(engine) as session:
        _judge_all_quarantined(
            session, bad, "expect_level_within_station_range", LATER_CYCLE
        )
        history = store.load_accepted_history(session, SINCE, as_of=LATER_CYCLE)
        quarantined = store.quarantine_since(session, SINCE)

    assert history.empty
    assert [(q.station_code, q.level_m, q.rule) for q in quarantined] == [
        ("001-MBDGHY", 8.04, "expect_level_within_station_range")
    ]


def test_keyless_row_is_quarantined_once(engine):
    rows = _candidates([("002-LBDJPG", "not a time", "43.1")])
    rows["observed_at"] = pd.NaT

    for cycle_id in (1, 2):
        with session_scope(engine) as session:
            _judge_all_quarantined(
                session, rows, "expect_observation_time_present", FIRST_CYCLE, cycle_id
            )
    with session_scope(engine) as session:
        quarantined = store.quarantine_since(session, datetime(2000, 1, 1, tzinfo=UTC))

    assert len(quarantined) == 1
    assert quarantined[0].observed_at is None
    assert quarantined[0].observed_at_raw == "not a time"


def test_real_snapshot_is_idempotent(engine, shared_data):
    path = shared_data / "cwc_ffs" / "snapshots" / SNAPSHOT
    batch = parse_snapshot(
        json.loads(gzip.decompress(path.read_bytes())), source=SNAPSHOT
    )
    river_levels = batch.observations[batch.observations["datatype"] == "HHS"]

    with session_scope(engine) as session:
        first = _judge_all_accepted(session, river_levels)
    with session_scope(engine) as session:
        second = _judge_all_accepted(session, river_levels)

    assert (
        first
        == river_levels.dropna(subset=["observed_at", "level_m"])
        .drop_duplicates(["station_code", "observed_at"])
        .shape[0]
    )
    assert second == 0


def test_naive_time_is_rejected_by_storage(engine):
    from argus.storage.tables import Observation

    with (
        pytest.raises(Exception, match="time zone missing"),
        session_scope(engine) as session,
    ):
        session.add(
            Observation(
                station_code="X",
                observed_at=datetime(2026, 7, 30, 2),
                level_m=1.0,
                station_code_raw="X",
                source="test",
                accepted=True,
            )
        )
