"""Data contract of observed annual peak levels per gauge.

The source is a document like ``annual_peaks_2019_2025.json``: per gauge, the
highest level CWC served in each monsoon year. ``peaks_frame`` flattens it to one
row per gauge and year; ``check_annual_peaks`` runs the suite ``annual_peaks``.

Rules, in suite order:

1. ``expect_peak_time_in_its_year``: the peak's time stamp (IST) falls in the
   year the peak is recorded for.
2. ``expect_peak_within_station_range``: between the floor and ceiling of the
   gauge contract (25 m below the lowest reference level, 5 m above the highest).
3. ``expect_peak_near_station_median``: within 10 m of the median of the gauge's
   annual peaks (at least 3 years). Peaks of one gauge in the 2019..2026 record
   lie within 3.3 m of their median, apart from Yinkiang (003-UBDDIB). Yinkiang
   has no reference level at all, so this is the rule that catches its 2021
   peak of 26,750 m. It also catches its 2020 peak of 368.78 m, 96 m above its
   other years.
"""

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from argus.errors import ContractError
from data_contracts import expectations as ex
from data_contracts.derived_columns import ObservationLimits
from data_contracts.expectations import ROW_ID, SuiteSpec

logger = logging.getLogger(__name__)

SUITE_NAME = "annual_peaks"
MAX_PEAK_DEVIATION_M = 10.0
"""Largest distance [m] of an annual peak from the median of its gauge's peaks."""
MIN_PEAK_YEARS = 3
PEAK_COLUMNS = (
    "station_code",
    "year",
    "observed_peak_m",
    "observed_peak_at",
    "is_usable_as_reference",
    "coverage_confidence",
    "monsoon_coverage",
    "warning_level_m",
    "danger_level_m",
    "highest_flood_level_m",
)
_RANGE = ObservationLimits()


@dataclass
class PeakCheck:
    """Annual peaks split by the contract's verdict."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    counts_by_rule: dict[str, int] = field(default_factory=dict)


def _expectations() -> list[ex.Expectation]:
    return [
        ex.ExpectPeakTimeInItsYear(column="peak_year_offset", min_value=0, max_value=0),
        ex.ExpectPeakWithinStationRange(
            column="range_position", min_value=0, max_value=1
        ),
        ex.ExpectPeakNearStationMedian(
            column="median_deviation_m",
            min_value=-MAX_PEAK_DEVIATION_M,
            max_value=MAX_PEAK_DEVIATION_M,
        ),
    ]


PEAK_SUITE = SuiteSpec(SUITE_NAME, _expectations)
RULES: tuple[str, ...] = tuple(PEAK_SUITE.rule_names())


def peaks_frame(document: Mapping[str, object]) -> pd.DataFrame:
    """Flatten an annual-peaks document into one row per gauge and year.

    Station codes are normalised like the CWC connector's (stripped, upper case,
    no spaces around the dash); ``observed_peak_at`` becomes UTC.
    """
    rows = [
        {
            "station_code": re.sub(r"\s*-\s*", "-", str(code).strip().upper()),
            **{name: gauge.get(name) for name in PEAK_COLUMNS[7:]},
            **{name: year.get(name) for name in PEAK_COLUMNS[1:7]},
        }
        for code, gauge in document["gauges"].items()
        for year in gauge["years"]
    ]
    frame = pd.DataFrame(rows, columns=list(PEAK_COLUMNS))
    frame["observed_peak_at"] = pd.to_datetime(frame["observed_peak_at"], utc=True)
    for column in ("observed_peak_m", *PEAK_COLUMNS[6:]):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


def check_annual_peaks(peaks: pd.DataFrame) -> PeakCheck:
    """Validate annual peaks and quarantine the implausible ones.

    Parameters
    ----------
    peaks
        Frame as made by ``peaks_frame``: ``observed_peak_m`` and the reference
        levels [m above mean sea level], ``observed_peak_at`` timezone-aware.

    Returns
    -------
    PeakCheck
        Accepted and quarantined rows (with ``rule`` and ``rules``) and counts of
        quarantined rows by their first failing rule.

    Raises
    ------
    ContractError
        If a column of ``PEAK_COLUMNS`` is missing.
    """
    missing = ex.missing_columns(peaks, PEAK_COLUMNS)
    if missing:
        raise ContractError(
            f"annual peaks frame lacks column(s) {missing!r}; the contract needs "
            f"{list(PEAK_COLUMNS)!r}: build the frame with peaks_frame()"
        )
    frame = peaks.set_axis(pd.RangeIndex(len(peaks)))
    failing = ex.failing_row_ids(
        _derived_columns(frame), spec=PEAK_SUITE, parameters={}
    )
    accepted, quarantined = ex.split_by_verdict(frame, failing, rule_order=RULES)

    accepted.index = peaks.index[accepted.index]
    quarantined.index = peaks.index[quarantined.index]
    counts = quarantined["rule"].value_counts()
    counts_by_rule = {rule: int(counts.get(rule, 0)) for rule in RULES}
    logger.info(
        "checked %d annual peaks: %d quarantined %s",
        len(frame),
        len(quarantined),
        {rule: n for rule, n in counts_by_rule.items() if n},
    )
    return PeakCheck(accepted, quarantined, counts_by_rule)


def _derived_columns(frame: pd.DataFrame) -> pd.DataFrame:
    peak_m = frame["observed_peak_m"].astype(float)
    references = frame[["warning_level_m", "danger_level_m", "highest_flood_level_m"]]
    floor_m = references.min(axis=1) - _RANGE.floor_depth_m
    ceiling_m = references.max(axis=1) + _RANGE.ceiling_margin_m
    by_station = peak_m.groupby(frame["station_code"])
    median_m = by_station.transform("median").where(
        by_station.transform("count") >= MIN_PEAK_YEARS
    )
    peak_year = frame["observed_peak_at"].dt.tz_convert("Asia/Kolkata").dt.year
    return pd.DataFrame(
        {
            ROW_ID: frame.index.to_numpy(),
            "peak_year_offset": (peak_year - frame["year"]).astype(float),
            "range_position": (peak_m - floor_m) / (ceiling_m - floor_m),
            "median_deviation_m": peak_m - median_m,
        }
    )
