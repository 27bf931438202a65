"""Tests of the gauge observation contract: a replay of the recorded CWC polls and
hand-made cases, one per rule."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from argus.errors import ContractError
from data_contracts.gauge_observations import (
    RULES,
    SUITE_NAME,
    ObservationLimits,
    validate_observations,
)
from data_contracts.thresholds import check_thresholds
from data_contracts.variables import variable
from tests.data_contracts.snapshot_rows import (
    OBSERVATION_COLUMNS,
    read_snapshot,
    read_stations,
    snapshot_time,
)

KEY = ["station_code", "observed_at", "datatype"]
HISTORY_DAYS = 7

# Known bad values of the recorded polls: (station, time IST, level [m]).
KNOWN_BAD = {
    ("002-LBDJPG", "2026-07-30 02:00", 4.86),
    ("025-MBDGHY", "2026-08-06 23:00", 4.7),
    ("012-UBDDIB", "2026-07-31 23:00", 16.34),
    ("012-UBDDIB", "2026-08-06 07:00", 77.07),
    ("012-UBDDIB", "2026-08-06 08:00", 77.06),
    ("012-UBDDIB", "2026-08-06 09:00", 77.06),
    ("012-UBDDIB", "2026-08-06 10:00", 77.05),
    ("012-UBDDIB", "2026-08-06 11:00", 77.05),
    ("020-UBDDIB", "2026-08-03 02:00", 124.83),
    ("020-UBDDIB", "2026-08-03 03:00", 124.80),
    ("020-UBDDIB", "2026-08-03 04:00", 124.75),
    ("020-UBDDIB", "2026-08-03 05:00", 124.70),
    ("020-UBDDIB", "2026-08-03 06:00", 124.66),
    ("020-UBDDIB", "2026-08-03 07:00", 124.60),
    ("020-UBDDIB", "2026-08-03 08:00", 124.59),
    ("020-UBDDIB", "2026-08-03 09:00", 124.56),
    ("020-UBDDIB", "2026-08-03 10:00", 124.56),
}
# Guwahati's early poll: 8.04 m at 11:00..14:00, published under datatype HZS.
GUWAHATI_EARLY = {
    ("001-MBDGHY", f"2026-07-27 {hour}:00", 8.04) for hour in range(11, 15)
}


@dataclass
class Replay:
    """Outcome of validating every snapshot in turn, as the nowcast cycle does."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    seconds: list[float]
    cycles: int


def _triples_list(frame: pd.DataFrame) -> list[tuple[str, str, float]]:
    """Return (station, time IST, level rounded to cm) of each row."""
    ist = (
        frame["observed_at"].dt.tz_convert("Asia/Kolkata").dt.strftime("%Y-%m-%d %H:%M")
    )
    return list(zip(frame["station_code"], ist, frame["level_m"].round(2), strict=True))


def _triples(frame: pd.DataFrame) -> set[tuple[str, str, float]]:
    return set(_triples_list(frame))


def _new_rows(rows: pd.DataFrame, seen: pd.DataFrame) -> pd.DataFrame:
    """Return rows whose station, time and datatype are unseen or whose value changed."""
    merged = rows.merge(seen, on=KEY, how="left", suffixes=("", "_seen"))
    is_new = merged["level_m_seen"].isna() | (
        merged["level_m"] != merged["level_m_seen"]
    )
    return rows[is_new.to_numpy()]


@pytest.fixture(scope="module")
def stations(shared_data: Path) -> pd.DataFrame:
    return read_stations(shared_data / "cwc_ffs" / "stations_assam.json")


@pytest.fixture(scope="module")
def replay(shared_data: Path, stations: pd.DataFrame) -> Replay:
    """Validate the new rows of each snapshot in name order, with accepted history."""
    files = sorted((shared_data / "cwc_ffs" / "snapshots").glob("ffs_*.json.gz"))
    seen = pd.DataFrame(columns=[*KEY, "level_m"])
    history = pd.DataFrame(columns=["station_code", "observed_at", "level_m"])
    accepted, quarantined, seconds = [], [], []
    for path in files:
        now = snapshot_time(path)
        rows = read_snapshot(path)
        seen = seen.astype(rows[seen.columns].dtypes.to_dict())
        candidates = _new_rows(rows, seen)
        seen = pd.concat([seen, candidates[seen.columns]]).drop_duplicates(
            KEY, keep="last"
        )
        recent = history[history["observed_at"] >= now - timedelta(days=HISTORY_DAYS)]

        started = time.perf_counter()
        result = validate_observations(
            candidates, stations=stations, history=recent, now=now
        )
        seconds.append(time.perf_counter() - started)

        accepted.append(result.accepted)
        quarantined.append(result.quarantined)
        fresh = result.accepted[result.accepted["datatype"] == "HHS"]
        history = pd.concat(
            [history.astype(fresh[history.columns].dtypes), fresh[history.columns]]
        )
        history = history.drop_duplicates(["station_code", "observed_at"], keep="last")
    return Replay(pd.concat(accepted), pd.concat(quarantined), seconds, len(files))


# The replay ----------------------------------------------------------------------
def test_replay_quarantines_known_bad_values(replay: Replay) -> None:
    assert KNOWN_BAD | GUWAHATI_EARLY <= _triples(replay.quarantined)
    assert not (KNOWN_BAD | GUWAHATI_EARLY) & _triples(replay.accepted)


def test_replay_rules_of_known_bad_values(replay: Replay) -> None:
    quarantined = replay.quarantined.assign(triple=_triples_list(replay.quarantined))
    first_rules = quarantined.groupby("triple")["rule"].agg(set)
    all_rules = quarantined.groupby("triple")["rules"].agg(",".join)

    assert first_rules[("025-MBDGHY", "2026-08-06 23:00", 4.7)] == {
        "expect_level_within_station_range"
    }
    for triple in GUWAHATI_EARLY:
        assert first_rules[triple] == {"expect_river_level_datatype"}
    daporizo = [triple for triple in KNOWN_BAD if triple[0] == "020-UBDDIB"]
    assert len(daporizo) == 9
    assert all("expect_level_near_recent_median" in all_rules[t] for t in daporizo)


def test_replay_pass_rate(replay: Replay) -> None:
    def other_levels(frame: pd.DataFrame) -> pd.DataFrame:
        is_bad = pd.Series(_triples_list(frame), index=frame.index).isin(KNOWN_BAD)
        return frame[(frame["datatype"] == "HHS") & ~is_bad.to_numpy()]

    passed = len(other_levels(replay.accepted))
    failed = len(other_levels(replay.quarantined))

    stale = (replay.quarantined["rule"] == "expect_observation_not_stale").sum()
    assert (passed, failed, stale) == (24867, 108, 70)
    assert passed / (passed + failed) == pytest.approx(0.99568, abs=1e-5)
    # Without the latest levels of gauges that stopped reporting long ago:
    assert passed / (passed + failed - stale) == pytest.approx(0.99847, abs=1e-5)


def test_replay_counts_by_rule(replay: Replay) -> None:
    counts = replay.quarantined["rule"].value_counts().to_dict()

    assert len(replay.accepted) + len(replay.quarantined) == 25159
    assert counts == {
        "expect_river_level_datatype": 161,
        "expect_observation_not_stale": 70,
        "expect_level_within_station_range": 28,
        "expect_rate_of_change_plausible": 18,
        "expect_one_level_per_station_time": 12,
        "expect_level_near_recent_median": 3,
    }


def test_replay_accepts_beki_correction(replay: Replay) -> None:
    assert ("002-LBDJPG", "2026-07-30 02:00", 43.86) in _triples(replay.accepted)


def test_replay_accepts_flat_days(replay: Replay) -> None:
    levels = replay.accepted[replay.accepted["datatype"] == "HHS"]
    levels = levels.drop_duplicates(["station_code", "observed_at"], keep="last")
    levels = levels.sort_values(["station_code", "observed_at"])
    new_run = levels["station_code"].ne(levels["station_code"].shift()) | levels[
        "level_m"
    ].diff().ne(0)
    runs = levels.groupby(new_run.cumsum()).agg(
        station_code=("station_code", "first"), readings=("level_m", "size")
    )
    longest = runs.groupby("station_code")["readings"].max()

    # Guwahati D.C. Court, and Numaligarh while above its danger level.
    assert longest["001-MBDGHY"] == 32
    assert longest["024-UBDDIB"] == 22
    assert longest.max() == 45


def test_replay_runs_every_snapshot(replay: Replay) -> None:
    assert replay.cycles == 133


# Hand-made cases -----------------------------------------------------------------
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def small_stations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "station_code": ["A", "HFL-ONLY", "BARE"],
            "warning_level_m": [49.0, np.nan, np.nan],
            "danger_level_m": [50.0, np.nan, np.nan],
            "highest_flood_level_m": [51.5, 49.88, np.nan],
        }
    )


def _observations(*rows: tuple) -> pd.DataFrame:
    """Build candidates from (station, hours before NOW, level, datatype) tuples."""
    frame = pd.DataFrame(
        rows, columns=["station_code", "hours_ago", "level_m", "datatype"]
    )
    observed_at = pd.Series(
        [
            NOW - timedelta(hours=h) if pd.notna(h) else pd.NaT
            for h in frame["hours_ago"]
        ],
        dtype="datetime64[us, UTC]",
    )
    return pd.DataFrame(
        {
            "station_code": frame["station_code"],
            "station_code_raw": frame["station_code"],
            "observed_at": observed_at,
            "observed_at_raw": observed_at.astype(str),
            "level_m": frame["level_m"].astype(float),
            "level_raw": frame["level_m"].astype(str),
            "datatype": frame["datatype"],
            "source": "hand-made",
        },
        columns=OBSERVATION_COLUMNS,
    )


def _history(
    station: str, levels: list[float], *, last_hours_ago: float
) -> pd.DataFrame:
    """Build hourly accepted history ending ``last_hours_ago`` before NOW."""
    ages = [last_hours_ago + len(levels) - 1 - i for i in range(len(levels))]
    return pd.DataFrame(
        {
            "station_code": station,
            "observed_at": pd.Series([NOW - timedelta(hours=a) for a in ages]),
            "level_m": levels,
        }
    )


NO_HISTORY = _history("A", [], last_hours_ago=0)


def _rule_of(
    candidates: pd.DataFrame, stations: pd.DataFrame, history=NO_HISTORY
) -> list:
    result = validate_observations(
        candidates, stations=stations, history=history, now=NOW
    )
    return result.quarantined.sort_index()["rule"].tolist()


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        (("Z", 1, 45.0, "HHS"), "expect_station_code_known"),
        (("A", 1, 8.04, "HZS"), "expect_river_level_datatype"),
        (("A", None, 45.0, "HHS"), "expect_observation_time_present"),
        (("A", 1, np.nan, "HHS"), "expect_level_numeric"),
        (("A", -1, 45.0, "HHS"), "expect_observation_not_in_future"),
        (("A", 49, 45.0, "HHS"), "expect_observation_not_stale"),
        (("A", 1, 23.9, "HHS"), "expect_level_within_station_range"),
        (("A", 1, 56.6, "HHS"), "expect_level_within_station_range"),
        (("HFL-ONLY", 1, 4.7, "HHS"), "expect_level_within_station_range"),
    ],
)
def test_validate_observations_failing_rule(
    row: tuple, rule: str, small_stations: pd.DataFrame
) -> None:
    assert _rule_of(_observations(row), small_stations) == [rule]


def test_validate_observations_range_edges(
    small_stations: pd.DataFrame,
) -> None:
    edges = _observations(
        ("A", 2, 24.0, "HHS"), ("A", 1, 56.5, "HHS"), ("BARE", 1, 0.0, "HHS")
    )
    assert _rule_of(edges, small_stations) == []


def test_validate_observations_conflicting_duplicates(
    small_stations: pd.DataFrame,
) -> None:
    rows = _observations(
        ("A", 2, 44.9, "HHS"), ("A", 1, 45.0, "HHS"), ("A", 1, 45.2, "HHS")
    )
    assert _rule_of(rows, small_stations) == ["expect_one_level_per_station_time"] * 2


def test_validate_observations_identical_repeats(small_stations) -> None:
    rows = _observations(
        ("A", 2, 45.0, "HHS"), ("A", 1, 45.1, "HHS"), ("A", 2, 45.0, "HHS")
    )
    assert _rule_of(rows, small_stations) == []


def test_validate_observations_out_of_order_row(
    small_stations: pd.DataFrame,
) -> None:
    rows = _observations(("A", 1, 45.0, "HHS"), ("A", 3, 45.1, "HHS"))
    assert _rule_of(rows, small_stations) == ["expect_times_in_order"]


def test_validate_observations_far_from_median(
    small_stations: pd.DataFrame,
) -> None:
    # History ends 30 h ago, beyond the 24 h neighbour window: only the median judges.
    history = _history("A", [45.0] * 6, last_hours_ago=30)
    rows = _observations(("A", 2, 35.1, "HHS"), ("A", 1, 34.9, "HHS"))
    assert _rule_of(rows, small_stations, history) == [
        "expect_level_near_recent_median"
    ]


def test_validate_observations_fast_jump_only(
    small_stations: pd.DataFrame,
) -> None:
    history = _history("A", [45.0, 45.1, 45.2], last_hours_ago=2)
    rows = _observations(("A", 1, 47.3, "HHS"), ("A", 0, 45.3, "HHS"))
    result = validate_observations(
        rows, stations=small_stations, history=history, now=NOW
    )

    assert result.quarantined["rule"].tolist() == ["expect_rate_of_change_plausible"]
    assert result.accepted["level_m"].tolist() == [45.3]


def test_validate_observations_revision(
    small_stations: pd.DataFrame,
) -> None:
    # 4.86 was accepted at hour 2 in this made-up history; its correction must pass.
    history = _history("A", [45.0, 4.86, 45.1], last_hours_ago=1)
    rows = _observations(("A", 2, 45.05, "HHS"))
    assert _rule_of(rows, small_stations, history) == []


def test_validate_observations_stuck_level(
    small_stations: pd.DataFrame,
) -> None:
    stuck = _history("A", [46.0] * 73, last_hours_ago=1)
    day_long = _history("A", [46.0] * 33, last_hours_ago=1)
    rows = _observations(("A", 0, 46.0, "HHS"))

    assert _rule_of(rows, small_stations, stuck) == ["expect_level_not_stuck"]
    assert _rule_of(rows, small_stations, day_long) == []


def test_validate_observations_all_failing_rules(small_stations) -> None:
    history = _history("A", [45.0] * 6, last_hours_ago=1)
    rows = _observations(("A", 0, 4.86, "HHS"))
    result = validate_observations(
        rows, stations=small_stations, history=history, now=NOW
    )

    rules = [
        "expect_level_within_station_range",
        "expect_level_near_recent_median",
        "expect_rate_of_change_plausible",
    ]
    assert result.quarantined["rules"].tolist() == [",".join(rules)]
    assert result.counts_by_rule["expect_level_within_station_range"] == 1
    assert sum(result.counts_by_rule.values()) == 1


def test_validate_observations_keeps_index(small_stations) -> None:
    rows = _observations(("A", 2, 45.0, "HHS"), ("A", 1, 5.0, "HHS")).set_axis([10, 20])
    result = validate_observations(
        rows, stations=small_stations, history=NO_HISTORY, now=NOW
    )

    assert result.accepted.index.tolist() == [10]
    assert result.quarantined.index.tolist() == [20]
    assert (result.suite_name, result.evaluated) == (SUITE_NAME, 2)
    assert list(result.accepted.columns) == list(OBSERVATION_COLUMNS)


def test_validate_observations_reported_levels(
    shared_data: Path, stations: pd.DataFrame
) -> None:
    # 009NEID3: warning 324 m, danger 325 m, HFL 295.48 m set aside; levels ~288 m.
    checked = check_thresholds(stations).stations
    rows = _observations(("009NEID3", 1, 288.2, "HHS"))
    assert _rule_of(rows, checked) == []


def test_validate_observations_custom_limits(small_stations) -> None:
    rows = _observations(("A", 60, 45.0, "HHS"))
    result = validate_observations(
        rows,
        stations=small_stations,
        history=NO_HISTORY,
        now=NOW,
        limits=ObservationLimits(max_age_h=72.0),
    )
    assert len(result.accepted) == 1


def test_validate_observations_empty_batch(small_stations) -> None:
    result = validate_observations(
        _observations(), stations=small_stations, history=NO_HISTORY, now=NOW
    )
    assert (result.evaluated, len(result.accepted), len(result.quarantined)) == (
        0,
        0,
        0,
    )
    assert set(result.counts_by_rule) == set(RULES)


def test_validate_observations_missing_column(small_stations) -> None:
    rows = _observations(("A", 1, 45.0, "HHS")).drop(columns=["datatype", "level_raw"])
    with pytest.raises(
        ContractError,
        match=r"candidates frame lacks column\(s\) \['level_raw', 'datatype'\]",
    ):
        validate_observations(
            rows, stations=small_stations, history=NO_HISTORY, now=NOW
        )


def test_validate_observations_naive_times(small_stations) -> None:
    rows = _observations(("A", 1, 45.0, "HHS"))
    rows["observed_at"] = rows["observed_at"].dt.tz_localize(None)
    with pytest.raises(ContractError, match="observed_at has dtype .* timezone-aware"):
        validate_observations(
            rows, stations=small_stations, history=NO_HISTORY, now=NOW
        )
    with pytest.raises(ValueError, match="is naive"):
        validate_observations(
            rows,
            stations=small_stations,
            history=NO_HISTORY,
            now=NOW.replace(tzinfo=None),
        )


def test_validate_observations_text_thresholds(small_stations) -> None:
    stations = small_stations.astype({"danger_level_m": str})
    rows = _observations(("A", 1, 45.0, "HHS"))
    with pytest.raises(ContractError, match="stations.danger_level_m has dtype"):
        validate_observations(rows, stations=stations, history=NO_HISTORY, now=NOW)


def test_gauge_suite_rule_names() -> None:
    assert RULES == (
        "expect_station_code_known",
        "expect_river_level_datatype",
        "expect_observation_time_present",
        "expect_level_numeric",
        "expect_observation_not_in_future",
        "expect_observation_not_stale",
        "expect_one_level_per_station_time",
        "expect_times_in_order",
        "expect_level_within_station_range",
        "expect_level_near_recent_median",
        "expect_rate_of_change_plausible",
        "expect_level_not_stuck",
    )


def test_canonical_variables_lookup() -> None:
    assert variable("level_m").unit == "m"
    assert variable("observed_at").unit == "UTC time"
    with pytest.raises(KeyError, match="'stage_m' is not a canonical variable"):
        variable("stage_m")


def test_future_row_quarantines_only_itself(small_stations: pd.DataFrame) -> None:
    candidates = _observations(
        ("A", 3, 45.0, "HHS"), ("A", 2, 45.01, "HHS"), ("A", -5, 45.02, "HHS")
    )

    result = validate_observations(
        candidates, stations=small_stations, history=NO_HISTORY, now=NOW
    )

    assert len(result.accepted) == 2
    assert result.quarantined["rule"].tolist() == ["expect_observation_not_in_future"]


def test_backfill_of_reporting_gauge_is_not_stale(small_stations: pd.DataFrame) -> None:
    candidates = _observations(("A", 100, 45.0, "HHS"), ("A", 1, 45.2, "HHS"))

    result = validate_observations(
        candidates, stations=small_stations, history=NO_HISTORY, now=NOW
    )

    assert len(result.accepted) == 2


def test_silent_gauge_is_stale(small_stations: pd.DataFrame) -> None:
    candidates = _observations(("A", 100, 45.0, "HHS"), ("A", 99, 45.2, "HHS"))

    result = validate_observations(
        candidates, stations=small_stations, history=NO_HISTORY, now=NOW
    )

    assert result.quarantined["rule"].tolist() == ["expect_observation_not_stale"] * 2
