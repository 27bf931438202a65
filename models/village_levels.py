"""Flood level of every village from its features, by CWC's hydrological rules.

Rules, first match wins (thresholds that are NaN are not used):

1. UNMONITORED: no usable reference gauge (none assigned, no reading, or the
   latest reading older than the features' ``max_age_h``). Never NORMAL.
2. EMERGENCY: the reading is at or above the danger level, or the p50
   forecast reaches the highest flood level within the lead times (24 h).
3. WARNING: the reading is at or above the warning level, or the p50 forecast
   reaches the danger level.
4. WATCH: the p90 forecast reaches the warning level.
5. NORMAL otherwise.

The level is chosen with one :func:`numpy.select` over all villages. Reasons
name each rule that holds, with its numbers. They are written only for villages
above NORMAL or unmonitored, and only once per distinct set of inputs: villages
that share a reference gauge share their reasons, so the text is built for
about as many rows as there are gauges, not villages.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xarray as xr

logger = logging.getLogger(__name__)

LEVELS = ("UNMONITORED", "NORMAL", "WATCH", "WARNING", "EMERGENCY")
LEVEL_COLUMNS = (
    "village_id",
    "level",
    "reasons",
    "station_code",
    "monitored",
    "level_m",
    "warning_level_m",
    "danger_level_m",
)
INPUTS = (
    "usable",
    "level_m",
    "age_h",
    "warning_level_m",
    "danger_level_m",
    "highest_flood_level_m",
    "p50_reaches_hfl_h",
    "p50_reaches_danger_h",
    "p90_reaches_warning_h",
)
# The rules in order of severity: (source, threshold, its column, lead column).
RULES = (
    ("reading", "danger level", "danger_level_m", None),
    ("p50", "highest flood level", "highest_flood_level_m", "p50_reaches_hfl_h"),
    ("reading", "warning level", "warning_level_m", None),
    ("p50", "danger level", "danger_level_m", "p50_reaches_danger_h"),
    ("p90", "warning level", "warning_level_m", "p90_reaches_warning_h"),
)


def decide_levels(features: xr.Dataset) -> pd.DataFrame:
    """Decide the level of every village.

    Parameters
    ----------
    features
        Output of :func:`argus.features.build_features` (dask-backed or not);
        only the variables in ``INPUTS`` are computed.

    Returns
    -------
    pandas.DataFrame
        Columns ``LEVEL_COLUMNS``: ``level`` one of ``LEVELS``, ``reasons`` a
        tuple of short strings (empty for NORMAL), ``monitored`` False exactly
        for UNMONITORED. ``level_m`` is the latest reading of the reference
        gauge and ``warning_level_m`` / ``danger_level_m`` its thresholds [m],
        NaN where unknown; the alert hysteresis compares them.
    """
    values = {
        name: np.asarray(a) for name, a in features[list(INPUTS)].compute().items()
    }
    usable = values["usable"].astype(bool)
    rules = _rules(values)
    level = np.select(
        [
            ~usable,
            rules["reading_at_danger"] | rules["p50_reaches_hfl"],
            rules["reading_at_warning"] | rules["p50_reaches_danger"],
            rules["p90_reaches_warning"],
        ],
        ["UNMONITORED", "EMERGENCY", "WARNING", "WATCH"],
        default="NORMAL",
    )
    station_code = features["station_code"].to_numpy().astype(object)
    station_code[pd.isna(station_code)] = None
    frame = pd.DataFrame(
        {
            "village_id": features["village"].to_numpy(),
            "level": level,
            "reasons": _reasons(values, level, station_code, features.attrs),
            "station_code": pd.Series(station_code, dtype=object),
            "monitored": usable,
            "level_m": values["level_m"].astype(float),
            "warning_level_m": values["warning_level_m"].astype(float),
            "danger_level_m": values["danger_level_m"].astype(float),
        }
    )
    counts = frame["level"].value_counts()
    logger.info(
        "village levels: %s", ", ".join(f"{k} {counts.get(k, 0)}" for k in LEVELS)
    )
    return frame


def _rules(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate each rule as a boolean array (a comparison with NaN is False)."""
    with np.errstate(invalid="ignore"):
        return {
            "reading_at_danger": values["level_m"] >= values["danger_level_m"],
            "p50_reaches_hfl": ~np.isnan(values["p50_reaches_hfl_h"]),
            "reading_at_warning": values["level_m"] >= values["warning_level_m"],
            "p50_reaches_danger": ~np.isnan(values["p50_reaches_danger_h"]),
            "p90_reaches_warning": ~np.isnan(values["p90_reaches_warning_h"]),
        }


def _reasons(
    values: dict[str, np.ndarray],
    level: np.ndarray,
    station_code: np.ndarray,
    attrs: dict,
) -> np.ndarray:
    """Reasons per village, built once per distinct (gauge, level, inputs)."""
    reasons = _object_array([()] * len(level))
    rows = np.flatnonzero(level != "NORMAL")
    if rows.size == 0:
        return reasons
    keys = pd.DataFrame({name: values[name][rows] for name in INPUTS[1:]})
    keys["station_code"] = pd.Series(station_code[rows], dtype=object).fillna("")
    keys["level"] = level[rows]
    group = keys.groupby(list(keys.columns), dropna=False, sort=False).ngroup()
    group = group.to_numpy()
    _, first = np.unique(group, return_index=True)
    texts = _object_array([_reason_texts(keys.iloc[i], attrs) for i in first])
    reasons[rows] = texts[group]
    return reasons


def _reason_texts(row: pd.Series, attrs: dict) -> tuple[str, ...]:
    code = row["station_code"] or None
    if row["level"] == "UNMONITORED":
        return (_unmonitored_text(row, code, attrs),)
    texts = []
    for source, threshold, column, lead_column in RULES:
        if source == "reading" and row["level_m"] >= row[column]:
            texts.append(
                f"reading {_m(row['level_m'])} m >= {threshold} {_m(row[column])} m "
                f"at {code}"
            )
        elif source != "reading" and not np.isnan(row[lead_column]):
            texts.append(
                f"{source} forecast reaches {threshold} {_m(row[column])} m in "
                f"{row[lead_column]:g} h"
            )
    return tuple(texts)


def _unmonitored_text(row: pd.Series, code: str | None, attrs: dict) -> str:
    if code is None:
        return "no reference gauge with a danger level nearby"
    if np.isnan(row["level_m"]) or np.isnan(row["age_h"]):
        return f"no accepted reading from {code}"
    if row["age_h"] < 0:
        return f"latest reading at {code} is {-row['age_h']:.1f} h after the cycle time"
    limit = attrs.get("max_age_h", float("nan"))
    return f"latest reading at {code} is {row['age_h']:.1f} h old (limit {limit:g} h)"


def _object_array(items: list[tuple[str, ...]]) -> np.ndarray:
    """1-D object array of tuples (numpy alone would make a 2-D array)."""
    return pd.Series(items, dtype=object).to_numpy(copy=True)


def _m(value: float) -> str:
    return f"{round(float(value), 2):g}"
