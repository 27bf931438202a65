"""Named Great Expectations rules and the one place that runs ARGUS suites.

Each rule of a contract is a subclass of a Great Expectations 1.x built-in, so its
expectation type (the snake-case class name, for example
``expect_level_within_station_range``) names what it checks. That name is the one
quarantined rows carry in ``rule`` and the one the operator's summary counts.

Suites are built once per process and cached: creating a Great Expectations
context costs far more than validating a batch of a few thousand rows. Tunable
limits enter the cached suites as suite parameters (``{"$PARAMETER": name}``), so
one suite serves every setting.
"""

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations import Expectation

from argus.errors import ContractError

logger = logging.getLogger(__name__)

ROW_ID = "_row_id"
"""Column that numbers the validated rows; GE reports failing rows by it."""

_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW_ID],
}
# NOTE: Great Expectations does not document its context as thread-safe, so
# building and running suites is serialised; one run takes milliseconds.
_LOCK = threading.Lock()


# Gauge observations -------------------------------------------------------------
class ExpectStationCodeKnown(gx.expectations.ExpectColumnValuesToBeInSet):
    """Expect the station code to be one of the stations ARGUS has metadata for."""


class ExpectRiverLevelDatatype(gx.expectations.ExpectColumnValuesToBeInSet):
    """Expect the CWC datatype code of a river level (HHS), never HZS, MPS or HZF."""


class ExpectObservationTimePresent(gx.expectations.ExpectColumnValuesToNotBeNull):
    """Expect an observation time that could be parsed."""


class ExpectLevelNumeric(gx.expectations.ExpectColumnValuesToNotBeNull):
    """Expect a numeric level (NaN marks a missing or non-numeric value)."""


class ExpectObservationNotInFuture(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the observation age [h] at the cycle time to be above minus a tolerance."""


class ExpectObservationNotStale(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the observation age [h] at the cycle time to be below a maximum age."""


class ExpectOneLevelPerStationTime(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect at most one distinct level per station and time within a batch."""


class ExpectTimesInOrder(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect no row older than an earlier row of the same station in the batch."""


class ExpectLevelWithinStationRange(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the level between the station's floor (0) and ceiling (1).

    The checked column is the level's position in the station's plausible range,
    ``(level - floor) / (ceiling - floor)`` [1].
    """


class ExpectLevelNearRecentMedian(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the level [m] near the median of the station's recent accepted levels."""


class ExpectRateOfChangePlausible(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the rate [m/h] against neighbouring accepted readings below a limit."""


class ExpectLevelNotStuck(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the time [h] a station has held exactly this level below a limit."""


# Station thresholds --------------------------------------------------------------
class ExpectDangerLevelPresent(gx.expectations.ExpectColumnValuesToNotBeNull):
    """Expect a danger level, without which WARNING and EMERGENCY cannot be decided."""


class ExpectWarningLevelPresent(gx.expectations.ExpectColumnValuesToNotBeNull):
    """Expect a warning level wherever a danger level exists."""


class ExpectWarningBelowDanger(gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB):
    """Expect the danger level (column A) strictly above the warning level (B)."""


class ExpectHighestFloodLevelNotBelowDanger(
    gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB
):
    """Expect the highest flood level (column A) at or above the danger level (B)."""


# Annual peaks ------------------------------------------------------------------
class ExpectPeakNearStationMedian(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect an annual peak [m] near the median of the station's annual peaks."""


class ExpectPeakWithinStationRange(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect an annual peak between the station's floor (0) and ceiling (1)."""


class ExpectPeakTimeInItsYear(gx.expectations.ExpectColumnValuesToBeBetween):
    """Expect the peak's time stamp to fall in the year it is recorded for."""


@dataclass(frozen=True)
class SuiteSpec:
    """A named suite and the function that builds its expectations, in order."""

    name: str
    build: Callable[[], Sequence[Expectation]]

    def rule_names(self) -> list[str]:
        """Return the expectation types of the suite, in suite order."""
        return [expectation.expectation_type for expectation in self.build()]


@functools.cache
def _context() -> gx.data_context.EphemeralDataContext:
    context = gx.get_context(mode="ephemeral")
    # Without this GE draws tqdm progress bars on stderr for every validation.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@functools.cache
def _validation_definition(spec: SuiteSpec) -> gx.ValidationDefinition:
    context = _context()
    batch_definition = (
        context.data_sources.add_pandas(f"{spec.name}_source")
        .add_dataframe_asset(name=spec.name)
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=spec.name))
    for expectation in spec.build():
        suite.add_expectation(expectation)
    definition = gx.ValidationDefinition(
        name=spec.name, data=batch_definition, suite=suite
    )
    logger.info(
        "built expectation suite %s (%d rules)", spec.name, len(suite.expectations)
    )
    return context.validation_definitions.add(definition)


def failing_row_ids(
    frame: pd.DataFrame, *, spec: SuiteSpec, parameters: Mapping[str, object]
) -> dict[str, set[int]]:
    """Validate ``frame`` against a suite and return the failing row ids per rule.

    Parameters
    ----------
    frame
        Rows to validate, with an integer ``ROW_ID`` column and every checked column.
    spec
        The suite; it is built on first use and cached for the process.
    parameters
        Values of the suite parameters that the expectations reference.

    Raises
    ------
    ContractError
        If an expectation could not be evaluated (a column or parameter is
        missing or has an unusable type).
    """
    with _LOCK:
        definition = _validation_definition(spec)
        result = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=dict(parameters),
            result_format=_RESULT_FORMAT,
        )

    failing: dict[str, set[int]] = {}
    for outcome in result.results:
        rule = outcome.expectation_config.type
        error = _evaluation_error(outcome)
        if error is not None:
            raise ContractError(
                f"suite {spec.name!r} could not evaluate rule {rule!r}: {error}. "
                "Check the frame's columns and types against the contract"
            )
        rows = outcome.result.get("unexpected_index_list") or []
        failing[rule] = {int(row[ROW_ID]) for row in rows}
    return failing


def _evaluation_error(outcome: ExpectationValidationResult) -> str | None:
    """Return why an expectation could not be evaluated, or None if it was.

    GE reports an error either at the top of ``exception_info`` or, when a metric
    failed (a missing column, for one), in a nested entry per metric.
    """
    info = outcome.exception_info or {}
    entries = [info, *(entry for entry in info.values() if isinstance(entry, dict))]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message")).rstrip(".")
    if not outcome.success and "unexpected_index_list" not in outcome.result:
        return "it failed without listing the failing rows"
    return None


def split_by_verdict(
    frame: pd.DataFrame, failing: Mapping[str, set[int]], *, rule_order: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into accepted and quarantined by the failing rule names.

    ``frame`` is indexed by row id. Quarantined rows gain ``rule`` (the first
    failing rule in suite order) and ``rules`` (every failing rule, comma-joined).
    """
    names = pd.Series("", index=frame.index, dtype=object)
    for rule in rule_order:
        ids = sorted(failing.get(rule, ()))
        if ids:
            names.loc[ids] = names.loc[ids] + "," + rule

    is_failing = names != ""
    quarantined = frame.loc[is_failing].copy()
    quarantined["rules"] = names[is_failing].str.lstrip(",").astype(str)
    quarantined["rule"] = quarantined["rules"].str.split(",").str[0]
    return frame.loc[~is_failing].copy(), quarantined


def missing_columns(frame: pd.DataFrame, required: Sequence[str]) -> list[str]:
    """Return the required columns that ``frame`` lacks, in ``required`` order."""
    return [column for column in required if column not in frame.columns]
