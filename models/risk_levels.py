"""Combine CWC's hydrological levels with the flood-risk model.

Rule, applied to every village at once after :func:`models.village_levels.decide_levels`:

1. The hydrological level is kept as a floor: the model never lowers it.
2. A village at NORMAL or WATCH is raised by exactly one level (to WATCH or
   WARNING) when both hold:

   - its flood risk is at least the model's ``high_risk_probability``, and
   - its gauge is near warning: the reading is at most ``near_warning_m``
     below the warning level, or the p90 forecast reaches the warning level
     (that is, the village is at WATCH). A gauge without a warning level is
     near warning within ``near_warning_m + 1`` m of its danger level.

3. WARNING, EMERGENCY and UNMONITORED are never changed: EMERGENCY means the
   danger level or the highest flood level is (forecast to be) reached, which
   only the gauge can tell, and an unmonitored village has no gauge to be near.

Every village at WATCH or above gets one more reason: its flood risk and the
``TOP_CONTRIBUTIONS`` features with the largest absolute XGBoost
contributions (log-odds, from ``pred_contribs``). A raised village also gets
a reason that says so. Unmonitored villages get none: they raise no alert, and
the model has no gauge reading to weigh for them.
"""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np
import pandas as pd
import xarray as xr

from models.risk import RiskModel
from models.risk_data import CIRCLE_ATTRIBUTES, FEATURES, RAIN_FEATURES

logger = logging.getLogger(__name__)

TOP_CONTRIBUTIONS = 3
NEAR_WARNING_M = 0.5
# A gauge without a warning level gets one at this depth below its danger
# level. NOTE: an estimate, because CWC sets many warning levels 1 m below danger.
WARNING_BELOW_DANGER_M = 1.0
RAISE_TO = {"NORMAL": "WATCH", "WATCH": "WARNING"}
GAUGE_INPUTS = (
    "usable",
    "level_m",
    "forecast_max_p50_m",
    "warning_level_m",
    "danger_level_m",
)
# Per-village satellite variables of the features that become ``flooded_fraction``.
SATELLITE_INPUTS = ("satellite_flooded_fraction", "satellite_usable")


def live_risk_features(
    features: xr.Dataset, exposure: pd.DataFrame, *, now: datetime
) -> pd.DataFrame:
    """Compute the risk model's features of every village in this cycle.

    ``flooded_fraction`` is the village's ``satellite_flooded_fraction`` where
    ``satellite_usable`` is true (a known fraction from a scene no older than
    the satellite age limit), else missing. Both are shares in [0, 1], as in
    training.

    NOTE: training uses the share of the whole revenue circle that Bhuvan
    mapped as inundated at any time in the month. Live, the fraction is the
    mean flooded share of the cells within ``satellite_radius_km`` of the
    village in one scene. A village on a flooded river bank may so read
    higher than its circle's monthly share, and a dry village in a flooded
    circle lower.

    Parameters
    ----------
    features
        Output of :func:`argus.features.build_features`; ``rain_mm_30d`` is
        used when present, else missing.
    exposure
        Columns ``village_id`` and the circle attributes
        (:data:`argus.exposure.CIRCLE_ATTRIBUTES`); villages without a row
        get missing values.
    now
        Time of the cycle (for ``month_of_year``).

    Returns
    -------
    pandas.DataFrame
        Columns ``village_id``, the gauge inputs and ``FEATURES``, in the
        order of ``features["village"]``.

    Raises
    ------
    ValueError
        When a usable satellite flooded fraction lies outside [0, 1].
    """
    names = [*GAUGE_INPUTS, *SATELLITE_INPUTS]
    names += [n for n in RAIN_FEATURES if n in features]
    values = {name: np.asarray(a) for name, a in features[names].compute().items()}
    village_ids = features["village"].to_numpy().astype(str)
    frame = pd.DataFrame(
        {"village_id": village_ids, **{n: values[n] for n in GAUGE_INPUTS}}
    )
    peak = np.fmax(values["level_m"], values["forecast_max_p50_m"])
    frame["level_above_danger_m"] = np.where(
        values["usable"].astype(bool), peak - values["danger_level_m"], np.nan
    )
    for name in RAIN_FEATURES:
        frame[name] = values.get(name, np.nan)
    frame["flooded_fraction"] = _satellite_flooded_fraction(values, village_ids)
    logger.info(
        "risk features: flooded fraction from a fresh satellite scene at %d of "
        "%d villages",
        int(frame["flooded_fraction"].notna().sum()),
        len(frame),
    )
    frame["month_of_year"] = float(now.month)
    static = exposure.set_index("village_id").reindex(village_ids)
    for name in CIRCLE_ATTRIBUTES:
        frame[name] = static[name].to_numpy(dtype="float64")
    return frame


def _satellite_flooded_fraction(
    values: dict[str, np.ndarray], village_ids: np.ndarray
) -> np.ndarray:
    """Flooded fraction of the fresh scenes [0..1], NaN elsewhere."""
    usable = values["satellite_usable"].astype(bool)
    fraction = np.where(usable, values["satellite_flooded_fraction"], np.nan)
    fraction = fraction.astype("float64")
    with np.errstate(invalid="ignore"):
        outside = np.flatnonzero(usable & ~((fraction >= 0) & (fraction <= 1)))
    if len(outside):
        first = outside[0]
        raise ValueError(
            f"satellite_flooded_fraction={float(fraction[first])!r} of village "
            f"{str(village_ids[first])!r} is outside [0, 1] ({len(outside)} "
            "villages); "
            "the fraction is a share, so check the scene's declared unit"
        )
    return fraction


def combine_levels(
    levels: pd.DataFrame,
    risk_features: pd.DataFrame,
    model: RiskModel,
    *,
    near_warning_m: float = NEAR_WARNING_M,
) -> pd.DataFrame:
    """Raise hydrological levels by the model's risk and add risk reasons.

    Parameters
    ----------
    levels
        Output of :func:`models.village_levels.decide_levels`.
    risk_features
        Output of :func:`live_risk_features` for the same villages, same order.
    model
        The risk model.
    near_warning_m
        How far below the warning level a reading counts as near it [m].

    Returns
    -------
    pandas.DataFrame
        ``levels`` with ``level`` and ``reasons`` updated and the columns
        ``hydrological_level`` and ``risk_probability`` added.

    Raises
    ------
    ValueError
        When the two frames do not list the same villages in the same order.
    """
    same_villages = len(levels) == len(risk_features) and np.array_equal(
        levels["village_id"].astype(str).to_numpy(object),
        risk_features["village_id"].astype(str).to_numpy(object),
    )
    if not same_villages:
        raise ValueError(
            "levels and risk_features list different villages; build both from "
            "the same features"
        )
    probability = model.probability(risk_features)
    hydrological = levels["level"].to_numpy(dtype=object)
    raise_rows = (
        (probability >= model.high_risk_probability)
        & np.isin(hydrological, list(RAISE_TO))
        & _near_warning(risk_features, hydrological, near_warning_m)
    )
    level = hydrological.copy()
    level[raise_rows] = [RAISE_TO[value] for value in hydrological[raise_rows]]
    reasons = levels["reasons"].to_numpy(dtype=object).copy()
    explained = np.flatnonzero(np.isin(level, ("WATCH", "WARNING", "EMERGENCY")))
    texts = _risk_reasons(risk_features.iloc[explained], probability[explained], model)
    for row, text in zip(explained, texts, strict=True):
        extra = (text,)
        if raise_rows[row]:
            extra = (
                (
                    f"raised from {hydrological[row]} by flood risk "
                    f"{probability[row]:.2f} (>= {model.high_risk_probability:g}) "
                    "with the gauge near warning level"
                ),
                text,
            )
        reasons[row] = tuple(reasons[row]) + extra
    combined = levels.assign(
        level=level,
        reasons=pd.Series(reasons, index=levels.index, dtype=object),
        hydrological_level=hydrological,
        risk_probability=probability,
    )
    logger.info(
        "risk model %s: %d villages raised one level, %d at high risk",
        model.version,
        int(raise_rows.sum()),
        int((probability >= model.high_risk_probability).sum()),
    )
    return combined


def _near_warning(
    frame: pd.DataFrame, level: np.ndarray, near_warning_m: float
) -> np.ndarray:
    """Flag the villages whose gauge is near its warning level (see the rule)."""
    reading = frame["level_m"].to_numpy(dtype="float64")
    warning = frame["warning_level_m"].to_numpy(dtype="float64")
    warning = np.where(
        np.isnan(warning),
        frame["danger_level_m"].to_numpy(dtype="float64") - WARNING_BELOW_DANGER_M,
        warning,
    )
    with np.errstate(invalid="ignore"):
        near = reading >= warning - near_warning_m
    usable = frame["usable"].to_numpy(dtype=bool)
    return usable & (near | (level == "WATCH"))


def _risk_reasons(
    frame: pd.DataFrame, probability: np.ndarray, model: RiskModel
) -> list[str]:
    """Write one reason per row from one ``pred_contribs`` call over all rows."""
    if len(frame) == 0:
        return []
    values = frame.loc[:, list(FEATURES)].to_numpy(dtype="float64")
    contributions = model.contributions(frame)[:, : len(FEATURES)]
    top = np.argsort(-np.abs(contributions), axis=1, kind="stable")
    top = top[:, :TOP_CONTRIBUTIONS]
    top_values = np.take_along_axis(values, top, axis=1).tolist()
    top_contributions = np.take_along_axis(contributions, top, axis=1).tolist()
    prefix = f"(risk model {model.version}); top contributions in log-odds: "
    # Formatting is the main cost for 10^5 villages: plain f-strings, and NaN
    # ("nan" from the format) renamed once per text.
    return [
        (
            f"flood risk {p:.2f} {prefix}"
            + ", ".join(
                f"{FEATURES[i]}={v:.3g} ({c:+.2f})"
                for i, v, c in zip(names, row_values, row_contributions, strict=True)
            )
        ).replace("=nan ", "=missing ")
        for p, names, row_values, row_contributions in zip(
            probability.tolist(),
            top.tolist(),
            top_values,
            top_contributions,
            strict=True,
        )
    ]
