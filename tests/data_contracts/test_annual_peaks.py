"""Tests of the annual peak contract on the recorded peaks and on hand-made rows."""

import json
from pathlib import Path

import pandas as pd
import pytest

from argus.errors import ContractError
from data_contracts.annual_peaks import (
    PEAK_SUITE,
    RULES,
    check_annual_peaks,
    peaks_frame,
)
from data_contracts.expectations import ROW_ID, failing_row_ids


@pytest.fixture(scope="module")
def peaks(shared_data: Path) -> pd.DataFrame:
    document = json.loads(
        (shared_data / "cwc_ffs" / "annual_peaks_2019_2025.json").read_text()
    )
    return peaks_frame(document)


def _peaks(*rows: tuple[str, int, float, str]) -> pd.DataFrame:
    """Build peaks from (station, year, peak [m], peak time IST) with fixed levels."""
    document = {
        "gauges": {
            code: {
                "warning_level_m": 48.68,
                "danger_level_m": 49.68,
                "highest_flood_level_m": 51.46,
                "years": [
                    {"year": year, "observed_peak_m": peak, "observed_peak_at": at}
                    for row_code, year, peak, at in rows
                    if row_code == code
                ],
            }
            for code in dict.fromkeys(row[0] for row in rows)
        }
    }
    return peaks_frame(document)


def test_check_annual_peaks_catches_yinkiang(peaks: pd.DataFrame) -> None:
    result = check_annual_peaks(peaks)
    caught = result.quarantined[["station_code", "year", "observed_peak_m", "rule"]]

    assert (len(peaks), len(result.accepted)) == (282, 280)
    assert caught.values.tolist() == [
        ["003-UBDDIB", 2020, 368.78, "expect_peak_near_station_median"],
        ["003-UBDDIB", 2021, 26750.0, "expect_peak_near_station_median"],
    ]


def test_peaks_frame_normalises_codes_and_times(peaks: pd.DataFrame) -> None:
    assert "012-UBDDIB" in set(peaks["station_code"])
    first = peaks.iloc[0]
    assert first["observed_peak_at"] == pd.Timestamp("2019-07-15 06:30", tz="UTC")
    assert peaks["station_code"].nunique() == 37


def test_check_annual_peaks_rule_names() -> None:
    peaks = _peaks(
        ("G", 2019, 51.2, "2019-07-15T12:00:00+05:30"),
        ("G", 2020, 50.8, "2021-07-15T12:00:00+05:30"),  # time in another year
        ("G", 2021, 50.2, "2021-07-15T12:00:00+05:30"),
        ("G", 2022, 57.0, "2022-07-15T12:00:00+05:30"),  # above HFL + 5 m
        ("G", 2023, 49.9, "2023-07-15T12:00:00+05:30"),
    )
    result = check_annual_peaks(peaks)

    assert result.quarantined[["year", "rule"]].values.tolist() == [
        [2020, "expect_peak_time_in_its_year"],
        [2022, "expect_peak_within_station_range"],
    ]
    assert result.counts_by_rule == {
        "expect_peak_time_in_its_year": 1,
        "expect_peak_within_station_range": 1,
        "expect_peak_near_station_median": 0,
    }


def test_check_annual_peaks_short_record() -> None:
    peaks = _peaks(
        ("G", 2019, 40.0, "2019-07-15T12:00:00+05:30"),
        ("G", 2020, 51.0, "2020-07-15T12:00:00+05:30"),
    )
    assert check_annual_peaks(peaks).quarantined.empty


def test_check_annual_peaks_missing_column(peaks: pd.DataFrame) -> None:
    with pytest.raises(ContractError, match=r"lacks column\(s\) \['observed_peak_m'\]"):
        check_annual_peaks(peaks.drop(columns="observed_peak_m"))


def test_failing_row_ids_raises_on_unevaluated_rule() -> None:
    frame = pd.DataFrame(
        {ROW_ID: [0], "peak_year_offset": [0.0], "range_position": [0.5]}
    )
    with pytest.raises(
        ContractError,
        match="could not evaluate rule 'expect_peak_near_station_median'.*"
        '"median_deviation_m" in BatchData does not exist',
    ):
        failing_row_ids(frame, spec=PEAK_SUITE, parameters={})


def test_peak_suite_rule_names() -> None:
    assert RULES == (
        "expect_peak_time_in_its_year",
        "expect_peak_within_station_range",
        "expect_peak_near_station_median",
    )
