"""Data contract of river-level observations from CWC gauges.

``validate_observations`` checks a batch of candidate rows against the suite
``gauge_observations``. Rows that pass every rule are accepted; the others are
quarantined with the first failing rule (suite order) and all failing rules.
Nothing is dropped: every candidate row ends in exactly one of the two frames.

Rules, in suite order (limits are the defaults of ``ObservationLimits``):

1. ``expect_station_code_known``: the code is in the stations frame. The
   nowcast cycle adds a station without reference levels to that frame for
   each plausible code that its station table lacks (see
   ``argus.unreferenced_stations``), so there this rule rejects empty codes
   and codes of implausible form.
2. ``expect_river_level_datatype``: the CWC datatype is ``HHS`` (river level);
   ``HZS``, ``MPS`` and ``HZF`` rows are other quantities and never levels.
3. ``expect_observation_time_present``: the time could be parsed.
4. ``expect_level_numeric``: the level is a number.
5. ``expect_observation_not_in_future``: observed at most 0.25 h after ``now``.
6. ``expect_observation_not_stale``: the row's station has a reading at most
   48 h before ``now`` (in the batch or its history). A gauge that went silent
   is stale with all its rows (CWC's latest level of a closed gauge can be
   years old), while older readings of a gauge that still reports are a
   backfill and pass.
7. ``expect_one_level_per_station_time``: one distinct level per station and
   time in the batch; identical repeats pass, conflicting values all fail.
8. ``expect_times_in_order``: no row is older than an earlier row of the same
   station in the batch.
9. ``expect_level_within_station_range``: between a floor 25 m below the
   station's lowest reference level and a ceiling 5 m above its highest
   (warning, danger, highest flood level). Every reported value counts, also one
   that the threshold contract set aside, so a wrong reference level widens the
   range instead of condemning good readings. A station without any reference
   level has no range.
10. ``expect_level_near_recent_median``: within 10 m of the median of the
    station's accepted levels of the last 168 h, when there are at least 6.
11. ``expect_rate_of_change_plausible``: at most 1.5 m/h against the nearest
    accepted reading before and after it within 24 h (time step floored at 1 h).
    Only accepted readings are neighbours, so a bad value never condemns a good
    one next to it.
12. ``expect_level_not_stuck``: the station has not held exactly this level for
    more than 72 h, counted through its accepted history and the batch. Large
    rivers hold a level for a day or more (Guwahati 33 h, Numaligarh 22 hourly
    readings while above its danger level), so a flat day alone is not a fault.

The limits leave room around the CWC polls of 2026-07-27..08-08 (85 gauges).
There, accepted levels lie at most 13.3 m below their station's highest flood
level and never above its highest reference level. 99.9 % of their hourly
changes are below 0.85 m/h, and only datum steps of 2 to 6 m take a level more
than 3.1 m from its 7-day median. The known bad values lie 39 to 100 m off, and
the longest accepted flat run lasts 44 h. The limits are estimates from one
monsoon fortnight: dry-season lows and flash floods on small Arunachal rivers
have not been checked against them.

NOTE: a lasting step error (a wrong datum for hours) is caught only at first.
Its later readings pass once the step divided by the time since the last
accepted reading falls below the rate limit, unless the range or the median
rule catches them.

Rules 7 to 12 judge only ``HHS`` rows with a time and a level. The values they
check are computed in pandas by ``data_contracts.derived_columns``, and the
verdict on each row comes from the Great Expectations validation result.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

import pandas as pd
from pandas.api.types import is_numeric_dtype

from argus.errors import ContractError
from argus.sources.cwc_payload import OBSERVATION_COLUMNS
from data_contracts import expectations as ex
from data_contracts.derived_columns import (
    REFERENCE_LEVELS,
    RIVER_LEVEL_DATATYPE,
    ObservationLimits,
    observation_columns,
    recent_history,
)
from data_contracts.expectations import SuiteSpec

logger = logging.getLogger(__name__)

SUITE_NAME = "gauge_observations"
HISTORY_COLUMNS = ("station_code", "observed_at", "level_m")
STATION_COLUMNS = ("station_code", *REFERENCE_LEVELS)


@dataclass
class ContractResult:
    """Outcome of one validation: every candidate row is in exactly one frame."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    counts_by_rule: dict[str, int] = field(default_factory=dict)
    suite_name: str = SUITE_NAME
    evaluated: int = 0


def _expectations() -> list[ex.Expectation]:
    def parameter(name: str) -> dict[str, str]:
        return {"$PARAMETER": name}

    return [
        ex.ExpectStationCodeKnown(
            column="station_code", value_set=parameter("known_station_codes")
        ),
        ex.ExpectRiverLevelDatatype(
            column="datatype", value_set=[RIVER_LEVEL_DATATYPE]
        ),
        ex.ExpectObservationTimePresent(column="observed_at"),
        ex.ExpectLevelNumeric(column="level_m"),
        ex.ExpectObservationNotInFuture(
            column="age_h", min_value=parameter("min_age_h")
        ),
        ex.ExpectObservationNotStale(
            column="station_silence_h", max_value=parameter("max_age_h")
        ),
        ex.ExpectOneLevelPerStationTime(column="levels_at_station_time", max_value=1),
        ex.ExpectTimesInOrder(column="time_step_h", min_value=0),
        ex.ExpectLevelWithinStationRange(
            column="range_position", min_value=0, max_value=1
        ),
        ex.ExpectLevelNearRecentMedian(
            column="median_deviation_m",
            min_value=parameter("min_deviation_m"),
            max_value=parameter("max_deviation_m"),
        ),
        ex.ExpectRateOfChangePlausible(
            column="rate_m_per_h",
            min_value=parameter("min_rate_m_per_h"),
            max_value=parameter("max_rate_m_per_h"),
        ),
        ex.ExpectLevelNotStuck(column="flat_run_h", max_value=parameter("max_flat_h")),
    ]


GAUGE_SUITE = SuiteSpec(SUITE_NAME, _expectations)
RULES: tuple[str, ...] = tuple(GAUGE_SUITE.rule_names())


def validate_observations(
    candidates: pd.DataFrame,
    *,
    stations: pd.DataFrame,
    history: pd.DataFrame,
    now: datetime,
    limits: ObservationLimits | None = None,
) -> ContractResult:
    """Validate candidate gauge observations and quarantine the failing rows.

    Parameters
    ----------
    candidates
        New rows of one source, columns ``OBSERVATION_COLUMNS``; ``observed_at``
        timezone-aware, ``level_m`` [m above mean sea level], NaN where missing.
    stations
        Station metadata with ``station_code`` and the reference levels [m].
    history
        Previously accepted observations of the recent past (``station_code``,
        ``observed_at``, ``level_m`` [m]); may be empty.
    now
        The cycle time, timezone-aware.
    limits
        Tunable limits; ``ObservationLimits()`` when omitted.

    Returns
    -------
    ContractResult
        Accepted and quarantined rows (original index kept) and counts of
        quarantined rows by their first failing rule.

    Raises
    ------
    ContractError
        If a frame lacks a column or a column has an unusable type; the caller
        should fail this source for the cycle.
    """
    limits = limits or ObservationLimits()
    _check_inputs(candidates, stations, history, now)
    if candidates.empty:
        empty = candidates.assign(rule=pd.Series(dtype=str), rules=pd.Series(dtype=str))
        return ContractResult(candidates.copy(), empty, dict.fromkeys(RULES, 0))

    frame = candidates.set_axis(pd.RangeIndex(len(candidates)))
    checked = observation_columns(
        frame,
        stations=stations,
        history=recent_history(history, now, limits),
        now=now,
        limits=limits,
    )
    known = sorted(stations["station_code"].dropna().astype(str).unique())
    failing = ex.failing_row_ids(
        checked, spec=GAUGE_SUITE, parameters=_parameters(known, limits)
    )
    accepted, quarantined = ex.split_by_verdict(frame, failing, rule_order=RULES)

    accepted.index = candidates.index[accepted.index]
    quarantined.index = candidates.index[quarantined.index]
    counts = quarantined["rule"].value_counts()
    counts_by_rule = {rule: int(counts.get(rule, 0)) for rule in RULES}
    logger.info(
        "validated %d observations: %d accepted, %d quarantined %s",
        len(frame),
        len(accepted),
        len(quarantined),
        {rule: n for rule, n in counts_by_rule.items() if n},
    )
    return ContractResult(accepted, quarantined, counts_by_rule, SUITE_NAME, len(frame))


def _parameters(known: list[str], limits: ObservationLimits) -> dict[str, object]:
    return {
        **asdict(limits),
        "known_station_codes": known,
        "min_age_h": -limits.future_tolerance_h,
        "min_deviation_m": -limits.max_median_deviation_m,
        "max_deviation_m": limits.max_median_deviation_m,
        "min_rate_m_per_h": -limits.max_rate_m_per_h,
    }


def _check_inputs(
    candidates: pd.DataFrame,
    stations: pd.DataFrame,
    history: pd.DataFrame,
    now: datetime,
) -> None:
    if now.tzinfo is None:
        raise ValueError(f"now={now!r} is naive; pass a timezone-aware cycle time")
    frames = [
        ("candidates", candidates, OBSERVATION_COLUMNS),
        ("stations", stations, STATION_COLUMNS),
    ]
    if len(history):
        frames.append(("history", history, HISTORY_COLUMNS))
    for name, frame, required in frames:
        missing = ex.missing_columns(frame, required)
        if missing:
            raise ContractError(
                f"{name} frame lacks column(s) {missing!r}; the gauge contract needs "
                f"{list(required)!r}: fix the producer of the frame"
            )
        if "observed_at" in required and not isinstance(
            frame["observed_at"].dtype, pd.DatetimeTZDtype
        ):
            raise ContractError(
                f"{name}.observed_at has dtype {frame['observed_at'].dtype!r}; "
                "expected timezone-aware datetime64: convert IST times to UTC first"
            )
        for column in ("level_m", *REFERENCE_LEVELS):
            if column in required and not is_numeric_dtype(frame[column]):
                raise ContractError(
                    f"{name}.{column} has dtype {frame[column].dtype!r}; expected "
                    "float metres with NaN for missing values"
                )
