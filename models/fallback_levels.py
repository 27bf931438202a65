"""Levels from the fallback sources, for villages whose gauge cannot decide.

A village falls back when its reference gauge is not usable (none, no reading,
too old), when the gauge's trust is below ``MIN_TRUST``, or when an operator
forced fallback. Its level then comes from the other sources that are usable
and trusted (trust at least ``MIN_TRUST``):

- satellite: flooded fraction within the set radius of the village, from a
  scene no older than the satellite age limit;
- citizen: the median severity over distinct reporters of the time window.
  The group's trust is 1 - product of (1 - reporter trust), so one new
  reporter alone (trust 0.2) is not enough and two distinct ones are.

NOTE: camera virtual gauges are not a fallback source here yet; their
readings reach the village through the gauge path once they are stored as
observations of a station.

The level is the trust-weighted median severity of the candidates (the most
severe level that sources holding at least half of the total trust reach or
exceed), and the source that decided it is the most trusted candidate at that
level. A fallback level is always marked degraded with its reason. A village
with no usable, trusted source stays UNMONITORED, never NORMAL.

NOTE: the satellite and depth thresholds below are judgment, not calibrated
against village flood records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

MIN_TRUST = 0.3
# Flags a reporter can send instead of a depth, and the level each one means.
FLAG_LEVELS = {"flooded": "WARNING", "rising": "WATCH", "dry": "NORMAL"}
SEVERITY = ("NORMAL", "WATCH", "WARNING", "EMERGENCY")
# Lowest flooded fraction [1] within the radius for each level.
SATELLITE_FRACTION = {"WATCH": 0.01, "WARNING": 0.05, "EMERGENCY": 0.20}
# Lowest water depth [m] at the village for each level (WATCH: any water).
CITIZEN_DEPTH_M = {"WATCH": 0.0, "WARNING": 0.3, "EMERGENCY": 1.0}
FALLBACK_INPUTS = (
    "usable",
    "gauge_trust",
    "fallback_forced",
    "satellite_flooded_fraction",
    "satellite_age_h",
    "satellite_usable",
    "satellite_trust",
    "citizen_severity",
    "citizen_reporters",
    "citizen_trust",
)


def satellite_severity(fraction: np.ndarray) -> np.ndarray:
    """Severity index (0 NORMAL .. 3 EMERGENCY) of a flooded fraction; NaN stays."""
    fraction = np.asarray(fraction, dtype="float64")
    severity = np.zeros(fraction.shape)
    for index, level in enumerate(SEVERITY[1:], start=1):
        severity[fraction >= SATELLITE_FRACTION[level]] = index
    return np.where(np.isnan(fraction), np.nan, severity)


def citizen_severity(depth_m: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Severity index of a reported depth [m], or of a flag when no depth."""
    depth = np.asarray(depth_m, dtype="float64")
    severity = np.zeros(depth.shape)
    severity[depth > CITIZEN_DEPTH_M["WATCH"]] = 1
    severity[depth >= CITIZEN_DEPTH_M["WARNING"]] = 2
    severity[depth >= CITIZEN_DEPTH_M["EMERGENCY"]] = 3
    by_flag = pd.Series(flag, dtype=object).map(
        {flag: SEVERITY.index(level) for flag, level in FLAG_LEVELS.items()}
    )
    return np.where(np.isnan(depth), by_flag.to_numpy(float), severity)


def apply_fallback(levels: pd.DataFrame, features: xr.Dataset) -> pd.DataFrame:
    """Add ``source``, ``degraded`` and ``degraded_reason`` and fill fallback levels.

    ``levels`` is the output of :func:`models.village_levels.decide_levels` on
    ``features``. Villages the gauge decided keep their level (source
    ``gauge``) unless the gauge is untrusted or fallback is forced.
    """
    values = {
        name: np.asarray(a)
        for name, a in features[list(FALLBACK_INPUTS)].compute().items()
    }
    levels = levels.copy()
    gauge_trusted = ~(values["gauge_trust"] < MIN_TRUST)
    forced = values["fallback_forced"].astype(bool)
    by_gauge = values["usable"].astype(bool) & gauge_trusted & ~forced
    candidates = _candidates(values)
    severity, source = _weighted_median(candidates)

    fallback = ~by_gauge
    decided = fallback & ~np.isnan(severity)
    level = levels["level"].to_numpy(dtype=object).copy()
    level[decided] = np.array(SEVERITY, dtype=object)[severity[decided].astype(int)]
    level[fallback & ~decided] = "UNMONITORED"
    fallback_reason = _fallback_reasons(values, fallback, gauge_trusted, forced)
    reasons = levels["reasons"].to_numpy(dtype=object).copy()
    for row in np.flatnonzero(fallback):
        detail = (
            _decided_text(values, row, source[row])
            if decided[row]
            else ("no usable, trusted fallback source")
        )
        reasons[row] = (f"degraded: {fallback_reason[row]}; {detail}",)
    levels["level"] = level
    levels["reasons"] = reasons
    levels["source"] = np.where(by_gauge, "gauge", np.where(decided, source, None))
    levels["degraded"] = decided
    levels["degraded_reason"] = np.where(fallback, fallback_reason, "")
    levels["monitored"] = by_gauge | decided
    return levels


def _candidates(
    values: dict[str, np.ndarray],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Severity and trust weight of each fallback source; weight 0 when unusable."""
    satellite = satellite_severity(values["satellite_flooded_fraction"])
    satellite_ok = values["satellite_usable"].astype(bool) & ~np.isnan(satellite)
    satellite_ok &= values["satellite_trust"] >= MIN_TRUST
    citizen = values["citizen_severity"]
    citizen_ok = ~np.isnan(citizen) & (values["citizen_trust"] >= MIN_TRUST)
    return {
        "satellite": (
            satellite,
            np.where(satellite_ok, values["satellite_trust"], 0.0),
        ),
        "citizen": (citizen, np.where(citizen_ok, values["citizen_trust"], 0.0)),
    }


def _weighted_median(
    candidates: dict[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    names = list(candidates)
    severity = np.stack([np.nan_to_num(candidates[n][0], nan=0.0) for n in names])
    weight = np.stack([candidates[n][1] for n in names])
    total = weight.sum(axis=0)
    chosen = np.full(total.shape, np.nan)
    for index in range(len(SEVERITY)):
        reach = (weight * (severity >= index)).sum(axis=0)
        chosen = np.where((total > 0) & (reach >= total / 2), index, chosen)
    at_level = (severity == chosen) & (weight > 0)
    best = np.argmax(np.where(at_level, weight, -1.0), axis=0)
    source = np.where(np.isnan(chosen), None, np.array(names, dtype=object)[best])
    return chosen, source


def _fallback_reasons(
    values: dict[str, np.ndarray],
    fallback: np.ndarray,
    gauge_trusted: np.ndarray,
    forced: np.ndarray,
) -> np.ndarray:
    why = np.full(fallback.shape, "", dtype=object)
    why[fallback] = "reference gauge not usable"
    untrusted = fallback & ~gauge_trusted
    for row in np.flatnonzero(untrusted):
        why[row] = (
            f"reference gauge trust {values['gauge_trust'][row]:.2f} < {MIN_TRUST}"
        )
    why[forced] = "fallback forced by operator"
    return why


def _decided_text(values: dict[str, np.ndarray], row: int, source: str) -> str:
    if source == "satellite":
        return (
            f"level from satellite: {values['satellite_flooded_fraction'][row]:.1%} "
            f"flooded nearby, scene {values['satellite_age_h'][row]:.0f} h old, "
            f"trust {values['satellite_trust'][row]:.2f}"
        )
    return (
        f"level from {int(values['citizen_reporters'][row])} citizen reporter(s), "
        f"trust {values['citizen_trust'][row]:.2f}"
    )
