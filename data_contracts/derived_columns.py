"""Per-row columns that the gauge observation contract checks.

Rules of the suite ``gauge_observations`` that compare a reading with its
station (range, recent median, rate of change, flat run) need a value per row
that depends on the station's metadata and accepted history. This module
computes those values in pandas; the verdict on each row then comes from the
Great Expectations suite in ``data_contracts.gauge_observations``.
"""

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from data_contracts.expectations import ROW_ID

RIVER_LEVEL_DATATYPE = "HHS"
REFERENCE_LEVELS = ("warning_level_m", "danger_level_m", "highest_flood_level_m")
_HOUR = pd.Timedelta(hours=1)
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
# Levels closer than this are the same reading (float noise): CWC publishes
# centimetres, a few gauges millimetres.
_SAME_LEVEL_M = 0.0005


@dataclass(frozen=True)
class ObservationLimits:
    """Tunable limits of the gauge contract; its module docstring gives the reasons."""

    future_tolerance_h: float = 0.25
    max_age_h: float = 48.0
    floor_depth_m: float = 25.0
    ceiling_margin_m: float = 5.0
    median_window_h: float = 168.0
    min_history_readings: int = 6
    max_median_deviation_m: float = 10.0
    neighbour_window_h: float = 24.0
    max_rate_m_per_h: float = 1.5
    max_flat_h: float = 72.0


def hours_since_epoch(times: pd.Series) -> pd.Series:
    """Return times as float hours since 1970 (any datetime unit)."""
    return (times.dt.tz_convert("UTC") - _EPOCH) / _HOUR


def _hour_of(now: datetime) -> float:
    return (pd.Timestamp(now).tz_convert("UTC") - _EPOCH) / _HOUR


def recent_history(
    history: pd.DataFrame, now: datetime, limits: ObservationLimits
) -> pd.DataFrame:
    """Return accepted levels of the last ``median_window_h`` as station, hour, level."""
    if history.empty:
        return pd.DataFrame(
            {
                "station_code": pd.Series(dtype=str),
                "hour": pd.Series(dtype=float),
                "level_m": pd.Series(dtype=float),
            }
        )
    recent = pd.DataFrame(
        {
            "station_code": history["station_code"].astype(str),
            "hour": hours_since_epoch(history["observed_at"]),
            "level_m": history["level_m"].astype(float),
        }
    ).dropna()
    return recent[recent["hour"] >= _hour_of(now) - limits.median_window_h]


def observation_columns(
    frame: pd.DataFrame,
    *,
    stations: pd.DataFrame,
    history: pd.DataFrame,
    now: datetime,
    limits: ObservationLimits,
) -> pd.DataFrame:
    """Return the frame that the gauge suite validates.

    Parameters
    ----------
    frame
        Candidate observations indexed by row id (0..n-1).
    stations
        Station metadata with the reference levels [m]; ``*_reported_m`` columns
        (from the threshold contract) are preferred when present.
    history
        Recent accepted levels as made by ``recent_history``.
    now
        The cycle time, timezone-aware.
    limits
        The contract's limits.

    Returns
    -------
    pandas.DataFrame
        ``ROW_ID``, the checked input columns and the derived columns ``age_h``
        (row), ``station_silence_h`` (hours since the station's newest reading),
        ``levels_at_station_time``, ``time_step_h`` [h], ``range_position`` [1],
        ``median_deviation_m``, ``rate_m_per_h`` and ``flat_run_h``. Derived
        columns other than ``age_h`` are NaN except on ``HHS`` rows with a time
        and a level.
    """
    hour = hours_since_epoch(frame["observed_at"])
    checked = pd.DataFrame(
        {
            ROW_ID: frame.index.to_numpy(),
            "station_code": frame["station_code"].astype(object).fillna("").astype(str),
            "datatype": frame["datatype"].astype(object).fillna("").astype(str),
            "observed_at": frame["observed_at"],
            "level_m": frame["level_m"].astype(float),
            "age_h": _hour_of(now) - hour,
            "station_silence_h": _hour_of(now)
            - _station_newest_hour(
                frame,
                hour.where(hour <= _hour_of(now) + limits.future_tolerance_h),
                history,
            ),
        }
    )
    is_level = (checked["datatype"] == RIVER_LEVEL_DATATYPE) & hour.notna()
    is_level &= checked["level_m"].notna()
    rows = checked.loc[is_level, ["station_code", "level_m"]].assign(
        hour=hour[is_level]
    )

    derived = pd.DataFrame(index=rows.index)
    derived["levels_at_station_time"] = rows.groupby(["station_code", "hour"])[
        "level_m"
    ].transform("nunique")
    derived["time_step_h"] = _time_step_h(
        rows.assign(feed=frame.loc[rows.index, "source"].astype(str))
    )
    derived["range_position"] = _range_position(rows, stations, limits)
    derived["median_deviation_m"] = _median_deviation_m(rows, history, limits)
    derived["rate_m_per_h"] = _rate_m_per_h(rows, history, limits)
    derived["flat_run_h"] = _flat_run_h(rows, history)
    return checked.join(derived.astype(float))


def _station_newest_hour(
    frame: pd.DataFrame, hour: pd.Series, history: pd.DataFrame
) -> pd.Series:
    """Hour of each row's station's newest reading, in the batch or its history.

    Staleness is judged per station, not per row: a backfill of a gauge that
    still reports is kept, while every row of a gauge that went silent (CWC's
    latest level of a closed gauge can be years old) is stale. The caller masks
    rows dated in the future, so one such row cannot make its station look
    fresh.
    """
    codes = frame["station_code"].astype(object).fillna("").astype(str)
    is_level = frame["datatype"].eq(RIVER_LEVEL_DATATYPE) & hour.notna()
    newest = hour[is_level].groupby(codes[is_level]).max()
    if not history.empty:
        newest = pd.concat([newest, history.groupby("station_code")["hour"].max()])
        newest = newest.groupby(level=0).max()
    return codes.map(newest).astype(float).fillna(hour)


def _time_step_h(rows: pd.DataFrame) -> pd.Series:
    """Return each row's time minus the latest earlier time of its station [h].

    Order is judged within one feed (``source``: one API call or one file's
    table), because a replay or a live cycle concatenates several feeds whose
    times overlap. A repeat of a station and time already listed is no step
    (NaN), because its value either matches or
    ``expect_one_level_per_station_time`` catches it.
    """
    keys = [rows["station_code"], rows["feed"]]
    latest_before_h = rows.groupby(keys)["hour"].cummax().groupby(keys).shift(1)
    step_h = rows["hour"] - latest_before_h
    return step_h.mask(rows.duplicated(["station_code", "hour"]))


def _range_position(
    rows: pd.DataFrame, stations: pd.DataFrame, limits: ObservationLimits
) -> pd.Series:
    """Return ``(level - floor) / (ceiling - floor)`` [1]; NaN without references."""
    columns = [_reported_column(stations, name) for name in REFERENCE_LEVELS]
    references = stations[columns].astype(float)
    references = references.groupby(stations["station_code"].astype(str)).first()
    floor_m = references.min(axis=1) - limits.floor_depth_m
    ceiling_m = references.max(axis=1) + limits.ceiling_margin_m

    floor = rows["station_code"].map(floor_m)
    ceiling = rows["station_code"].map(ceiling_m)
    return (rows["level_m"] - floor) / (ceiling - floor)


def _reported_column(stations: pd.DataFrame, name: str) -> str:
    """Return ``*_reported_m`` when the threshold contract has set it, else ``name``.

    The range uses every reported reference level, also one that the threshold
    contract set aside, so a wrong reference widens the range instead of
    condemning good readings.
    """
    reported = name.removesuffix("_m") + "_reported_m"
    return reported if reported in stations.columns else name


def _median_deviation_m(
    rows: pd.DataFrame, history: pd.DataFrame, limits: ObservationLimits
) -> pd.Series:
    """Return the level minus the station's recent accepted median [m]."""
    stats = history.groupby("station_code")["level_m"].agg(["median", "count"])
    median = stats.loc[stats["count"] >= limits.min_history_readings, "median"]
    return rows["level_m"] - rows["station_code"].map(median)


def _rate_m_per_h(
    rows: pd.DataFrame, history: pd.DataFrame, limits: ObservationLimits
) -> pd.Series:
    """Return the steeper rate [m/h] against the accepted neighbours in time.

    The rate is ``(level - neighbour level) / max(|time step|, 1 h)``. Neighbours
    are the nearest accepted readings before and after, each within
    ``neighbour_window_h``, and the rate of larger magnitude is returned.
    """
    left = rows.reset_index(names="row").sort_values("hour")
    # A candidate at a station and time already accepted is a revision: the old
    # value it replaces is no neighbour, or a corrected block of readings would
    # be judged against the very values it corrects.
    revised = history.set_index(["station_code", "hour"]).index.isin(
        rows.set_index(["station_code", "hour"]).index
    )
    right = history[~revised].rename(
        columns={"hour": "neighbour_h", "level_m": "neighbour_m"}
    )
    right = right.sort_values("neighbour_h")
    rates = []
    for direction in ("backward", "forward"):
        pairs = pd.merge_asof(
            left,
            right,
            left_on="hour",
            right_on="neighbour_h",
            by="station_code",
            direction=direction,
            allow_exact_matches=False,
            tolerance=limits.neighbour_window_h,
        )
        step_h = (pairs["hour"] - pairs["neighbour_h"]).abs().clip(lower=1.0)
        rate = (pairs["level_m"] - pairs["neighbour_m"]) / step_h
        rates.append(rate.set_axis(pairs["row"]))
    before, after = rates
    steeper = before.where(before.abs().ge(after.abs()) | after.isna(), after)
    return steeper.reindex(rows.index)


def _flat_run_h(rows: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Return how long [h] the station has held each row's level, through history."""
    sequence = pd.concat([history, rows], ignore_index=True)
    sequence = sequence.drop_duplicates(["station_code", "hour"], keep="last")
    sequence = sequence.sort_values(["station_code", "hour"], kind="stable")
    new_run = sequence["station_code"].ne(sequence["station_code"].shift()) | (
        sequence["level_m"].diff().abs().gt(_SAME_LEVEL_M)
    )
    run_start_h = sequence.groupby(new_run.cumsum())["hour"].transform("min")
    sequence["flat_run_h"] = sequence["hour"] - run_start_h

    keyed = rows.reset_index(names="row").merge(
        sequence, on=["station_code", "hour", "level_m"], how="left"
    )
    return keyed.set_index("row")["flat_run_h"].reindex(rows.index)
