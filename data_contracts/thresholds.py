"""Data contract of station reference levels (warning, danger, highest flood level).

``check_thresholds`` runs the suite ``station_thresholds`` over the stations frame
and returns the reference levels that may be used, with every decision recorded.
A value that is not used becomes NaN in its column; the reported value stays in
``warning_level_reported_m``, ``danger_level_reported_m`` and
``highest_flood_level_reported_m``.

Rules, in suite order, and what follows when a station fails one:

1. ``expect_danger_level_present``: without a danger level the station cannot
   decide WARNING or EMERGENCY by thresholds and is not usable as a village
   reference gauge. Its danger level stays NaN, which is how other modules read
   it, and its warning level is not used either. Status ``no_danger_level``.
2. ``expect_warning_level_present`` (only where a danger level exists): the
   warning level is derived as the danger level minus 1.0 m and flagged in
   ``threshold_note``. CWC sets the warning level 1.0 m below the danger level
   at 90 of the 91 stations of ``stations_assam.json`` that have both. Deriving
   it follows CWC's own convention, where leaving it NaN would keep the station
   from ever raising a WARNING. Status ``adjusted``.
3. ``expect_warning_below_danger``: a warning level at or above the danger level
   is not used (NaN). None is derived either, because one of the two values is
   wrong and the contract cannot tell which. Status ``adjusted``.
4. ``expect_highest_flood_level_not_below_danger``: a highest flood level below
   the danger level is a datum or entry error; it is not used, and the danger
   level still is. Status ``adjusted``.

Stations that pass every rule have status ``ok``.
"""

import logging
from dataclasses import dataclass

import pandas as pd
from great_expectations.expectations.row_conditions import Column

from argus.errors import ContractError
from data_contracts import expectations as ex
from data_contracts.expectations import ROW_ID, SuiteSpec

logger = logging.getLogger(__name__)

SUITE_NAME = "station_thresholds"
LEVEL_COLUMNS = ("warning_level_m", "danger_level_m", "highest_flood_level_m")
REQUIRED_COLUMNS = ("station_code", *LEVEL_COLUMNS)
WARNING_BELOW_DANGER_M = 1.0
"""CWC's usual gap between the danger and the warning level [m]."""
PROBLEM_COLUMNS = ("station_code", "rule", "value", "note")


@dataclass
class ThresholdCheck:
    """Stations with the usable reference levels, and one row per problem found."""

    stations: pd.DataFrame
    problems: pd.DataFrame


def _expectations() -> list[ex.Expectation]:
    return [
        ex.ExpectDangerLevelPresent(column="danger_level_m"),
        ex.ExpectWarningLevelPresent(
            column="warning_level_m",
            row_condition=Column("danger_level_m").is_not_null(),
        ),
        ex.ExpectWarningBelowDanger(
            column_A="danger_level_m",
            column_B="warning_level_m",
            or_equal=False,
            ignore_row_if="either_value_is_missing",
        ),
        ex.ExpectHighestFloodLevelNotBelowDanger(
            column_A="highest_flood_level_m",
            column_B="danger_level_m",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


THRESHOLD_SUITE = SuiteSpec(SUITE_NAME, _expectations)
RULES: tuple[str, ...] = tuple(THRESHOLD_SUITE.rule_names())
DANGER_PRESENT, WARNING_PRESENT, WARNING_BELOW_DANGER, HFL_NOT_BELOW_DANGER = RULES

# rule -> (column whose reported value is shown, note for the operator)
_NOTES = {
    DANGER_PRESENT: (
        "danger_level_m",
        (
            "no danger level: WARNING/EMERGENCY cannot be decided by thresholds "
            "and the station is not usable as a village reference gauge"
        ),
    ),
    WARNING_PRESENT: (
        "warning_level_m",
        f"no warning level: derived as danger level - {WARNING_BELOW_DANGER_M} m",
    ),
    WARNING_BELOW_DANGER: (
        "warning_level_m",
        "warning level at or above danger level: warning level not used",
    ),
    HFL_NOT_BELOW_DANGER: (
        "highest_flood_level_m",
        "highest flood level below danger level: highest flood level not used",
    ),
}


def check_thresholds(stations: pd.DataFrame) -> ThresholdCheck:
    """Check the stations' reference levels and keep those that may be used.

    Parameters
    ----------
    stations
        One row per station with ``station_code`` and ``warning_level_m``,
        ``danger_level_m``, ``highest_flood_level_m`` [m above mean sea level],
        NaN where missing.

    Returns
    -------
    ThresholdCheck
        ``stations``: the input columns with the usable levels, the reported
        levels in ``*_reported_m`` columns, ``threshold_status`` (``ok``,
        ``adjusted`` or ``no_danger_level``) and ``threshold_note``.
        ``problems``: station_code, rule, value [m] and note, one row per failure.

    Raises
    ------
    ContractError
        If a required column is missing or a level column is not numeric.
    """
    levels = _reported_levels(stations)
    checked = levels.reset_index(drop=True).rename_axis(None)
    frame = checked[list(LEVEL_COLUMNS)].assign(**{ROW_ID: checked.index})
    failing = ex.failing_row_ids(frame, spec=THRESHOLD_SUITE, parameters={})

    problems = _problems(checked, failing)
    used = _used_levels(checked, failing)
    notes = problems.groupby(level=0)["note"].agg("; ".join)
    status = pd.Series("ok", index=checked.index, dtype=object)
    status[status.index.isin(problems.index)] = "adjusted"
    status[list(failing[DANGER_PRESENT])] = "no_danger_level"

    result = stations.reset_index(drop=True).assign(**used)
    for column in LEVEL_COLUMNS:
        result[column.removesuffix("_m") + "_reported_m"] = checked[column]
    result["threshold_status"] = status.astype(str)
    result["threshold_note"] = notes.reindex(checked.index, fill_value="").astype(str)
    result.index = stations.index
    logger.info(
        "checked thresholds of %d stations: %s",
        len(result),
        result["threshold_status"].value_counts().to_dict(),
    )
    return ThresholdCheck(result, problems.reset_index(drop=True))


def _reported_levels(stations: pd.DataFrame) -> pd.DataFrame:
    missing = ex.missing_columns(stations, REQUIRED_COLUMNS)
    if missing:
        raise ContractError(
            f"stations frame lacks column(s) {missing!r}; the threshold contract "
            f"needs {list(REQUIRED_COLUMNS)!r}: fix the station metadata loader"
        )
    try:
        levels = stations[list(LEVEL_COLUMNS)].astype(float)
    except (TypeError, ValueError) as error:
        raise ContractError(
            f"station reference levels are not numeric ({error}); expected metres "
            "with NaN for missing values: fix the station metadata loader"
        ) from error
    return levels.assign(station_code=stations["station_code"].astype(str))


def _problems(checked: pd.DataFrame, failing: dict[str, set[int]]) -> pd.DataFrame:
    """Return one row per failing station and rule, indexed by row id."""
    parts = []
    for rule in RULES:
        rows = sorted(failing.get(rule, ()))
        column, note = _NOTES[rule]
        parts.append(
            pd.DataFrame(
                {
                    "station_code": checked.loc[rows, "station_code"],
                    "rule": rule,
                    "value": checked.loc[rows, column],
                    "note": note,
                },
                index=pd.Index(rows, dtype="int64"),
                columns=list(PROBLEM_COLUMNS),
            )
        )
    return pd.concat(parts).sort_index(kind="stable")


def _used_levels(
    checked: pd.DataFrame, failing: dict[str, set[int]]
) -> dict[str, pd.Series]:
    """Return the levels that may be used, following the module's stated rules."""
    warning = checked["warning_level_m"].copy()
    danger = checked["danger_level_m"].copy()
    highest = checked["highest_flood_level_m"].copy()

    derived = list(failing[WARNING_PRESENT])
    warning[derived] = danger[derived] - WARNING_BELOW_DANGER_M
    warning[list(failing[WARNING_BELOW_DANGER] | failing[DANGER_PRESENT])] = float(
        "nan"
    )
    highest[list(failing[HFL_NOT_BELOW_DANGER])] = float("nan")
    return {
        "warning_level_m": warning,
        "danger_level_m": danger,
        "highest_flood_level_m": highest,
    }
