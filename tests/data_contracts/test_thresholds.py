"""Tests of the station threshold contract on the recorded station table and on
hand-made stations."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from argus.errors import ContractError
from data_contracts.thresholds import RULES, check_thresholds
from tests.data_contracts.snapshot_rows import read_stations

HFL_BELOW_DANGER = {
    "0013NEID3", "002-UBDDIB", "003NEID-3", "004-UBDDIB", "004NEID3", "009NEID3",
    "040-MBDNEW", "056-MBDNEW", "058-UBDDIB", "064-MBDNEW", "064-UBDDIB",
    "068-UBDDIB", "070-UBDDIB", "071-UBDDIB", "072-UBDDIB", "073-UBDDIB",
    "074-UBDDIB", "075-UBDDIB", "076-UBDDIB", "42-UBDDIB", "43-UBDDIB",
}  # fmt: skip


@pytest.fixture(scope="module")
def checked(shared_data: Path):
    return check_thresholds(
        read_stations(shared_data / "cwc_ffs" / "stations_assam.json")
    )


def _stations(*levels: tuple[float, float, float]) -> pd.DataFrame:
    """Build stations S0, S1, ... from (warning, danger, HFL) tuples [m]."""
    frame = pd.DataFrame(
        levels, columns=["warning_level_m", "danger_level_m", "highest_flood_level_m"]
    )
    return frame.assign(station_code=[f"S{i}" for i in range(len(frame))])


def test_check_thresholds_station_table_counts(checked) -> None:
    assert len(checked.stations) == 169
    assert checked.stations["threshold_status"].value_counts().to_dict() == {
        "no_danger_level": 72,
        "ok": 70,
        "adjusted": 27,
    }
    assert checked.problems["rule"].value_counts().to_dict() == {
        "expect_danger_level_present": 72,
        "expect_highest_flood_level_not_below_danger": 21,
        "expect_warning_level_present": 6,
    }


def test_check_thresholds_hfl_below_danger(
    checked,
) -> None:
    problems = checked.problems
    rule = problems["rule"] == "expect_highest_flood_level_not_below_danger"
    assert set(problems.loc[rule, "station_code"]) == HFL_BELOW_DANGER

    station = checked.stations.set_index("station_code").loc["009NEID3"]
    assert np.isnan(station["highest_flood_level_m"])
    assert station["highest_flood_level_reported_m"] == 295.48
    assert station["danger_level_m"] == 325.0
    assert (
        problems.loc[rule & (problems["station_code"] == "009NEID3"), "value"].item()
        == 295.48
    )


def test_check_thresholds_derived_warning(checked) -> None:
    station = checked.stations.set_index("station_code").loc["008-MDSIL"]
    assert station["warning_level_m"] == 18.0
    assert np.isnan(station["warning_level_reported_m"])
    assert station["threshold_status"] == "adjusted"
    assert "derived as danger level - 1.0 m" in station["threshold_note"]


def test_check_thresholds_no_danger_level(checked) -> None:
    pandu = checked.stations.set_index("station_code").loc["025-MBDGHY"]
    assert pandu["threshold_status"] == "no_danger_level"
    assert np.isnan(pandu["danger_level_m"])
    assert pandu["highest_flood_level_m"] == 49.88


def test_check_thresholds_hand_made_stations() -> None:
    stations = _stations(
        (49.0, 50.0, 51.0),  # S0 sound
        (50.5, 50.0, 51.0),  # S1 warning above danger
        (np.nan, 50.0, 49.0),  # S2 no warning, HFL below danger
        (49.0, np.nan, 51.0),  # S3 no danger
        (50.0, 50.0, 50.0),  # S4 warning equal to danger, HFL equal to danger
    )
    result = check_thresholds(stations)
    used = result.stations.set_index("station_code")

    assert used["threshold_status"].tolist() == [
        "ok", "adjusted", "adjusted", "no_danger_level", "adjusted"
    ]  # fmt: skip
    assert used["warning_level_m"].tolist() == pytest.approx(
        [49.0, np.nan, 49.0, np.nan, np.nan], nan_ok=True
    )
    assert used["highest_flood_level_m"].tolist() == pytest.approx(
        [51.0, 51.0, np.nan, 51.0, 50.0], nan_ok=True
    )
    assert list(zip(result.problems["station_code"], result.problems["rule"])) == [
        ("S1", "expect_warning_below_danger"),
        ("S2", "expect_warning_level_present"),
        ("S2", "expect_highest_flood_level_not_below_danger"),
        ("S3", "expect_danger_level_present"),
        ("S4", "expect_warning_below_danger"),
    ]
    assert used.loc["S2", "threshold_note"].count(";") == 1


def test_check_thresholds_keeps_index() -> None:
    stations = _stations((49.0, 50.0, 51.0)).set_axis([7]).assign(name="Somewhere")
    result = check_thresholds(stations)

    assert result.stations.index.tolist() == [7]
    assert result.stations.loc[7, "name"] == "Somewhere"
    assert result.problems.empty
    assert list(result.problems.columns) == ["station_code", "rule", "value", "note"]


def test_check_thresholds_missing_column() -> None:
    stations = _stations((49.0, 50.0, 51.0)).drop(columns="danger_level_m")
    with pytest.raises(ContractError, match=r"lacks column\(s\) \['danger_level_m'\]"):
        check_thresholds(stations)


def test_check_thresholds_text_levels() -> None:
    stations = _stations((49.0, 50.0, 51.0)).astype({"danger_level_m": object})
    stations.loc[0, "danger_level_m"] = "fifty"
    with pytest.raises(ContractError, match="reference levels are not numeric"):
        check_thresholds(stations)


def test_threshold_rule_names() -> None:
    assert RULES == (
        "expect_danger_level_present",
        "expect_warning_level_present",
        "expect_warning_below_danger",
        "expect_highest_flood_level_not_below_danger",
    )
