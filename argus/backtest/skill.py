"""Skill of level forecasts against the truth, persistence and CWC's forecasts.

Scores are per lead-time bucket (:data:`BUCKETS`). For each bucket:

- mae_m and rmse_m [m]: mean absolute and root mean square error;
- nse_median: the median over stations of each station's Nash-Sutcliffe
  efficiency, 1 - sum((f - o)^2) / sum((o - mean(o))^2) over that station's
  pairs in the bucket (Nash & Sutcliffe 1970). A station needs at least
  :data:`NSE_MIN_PAIRS` pairs and observations that vary; ``nse_stations``
  counts the stations that qualified;
- within_0_15: the share of errors within +-0.15 m, CWC's own accuracy
  criterion for level forecasts.

ARGUS and persistence are scored on the same pairs: rows where both exist and
the truth exists. CWC's official forecasts are matched with ARGUS's as
:func:`match_official` describes, and the difference of their MAEs gets a
paired bootstrap interval (Efron & Tibshirani 1993, percentile method) that
resamples station-days, not single pairs.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from argus.sources.cwc_payload import IST
from data_contracts.derived_columns import ObservationLimits
from models.level_skill import paired_bootstrap

logger = logging.getLogger(__name__)

BUCKETS = {"1-6": (1, 6), "7-12": (7, 12), "13-24": (13, 24)}
NSE_MIN_PAIRS = 10
WITHIN_M = 0.15
# Levels are published to the centimetre. An error of exactly 0.15 m can come
# out as 0.1500000001 in floating point, and it still counts as within.
_WITHIN_TOLERANCE_M = 1e-9
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_UNIT = "station-day (one station, one IST day of CWC's issue time)"
# The gauge contract's limit on a reading's distance from its station's median
# level [m], applied to CWC's official forecasts too.
MAX_OFFICIAL_DEVIATION_M = ObservationLimits().max_median_deviation_m


def bucket_of(lead_h: pd.Series) -> pd.Series:
    """Name of the lead-time bucket of each lead [h]; NaN outside 1..24 h."""
    edges = [0] + [high for _, high in BUCKETS.values()]
    return pd.cut(lead_h, bins=edges, labels=list(BUCKETS)).astype(object)


def error_scores(forecast_m, observed_m, stations) -> dict:
    """Compute n, mae_m, rmse_m, nse_median, nse_stations and within_0_15.

    Parameters
    ----------
    forecast_m, observed_m : array-like
        Forecast and observed levels of the same pairs [m].
    stations : array-like
        Station code of each pair, for the per-station NSE.
    """
    forecast = np.asarray(forecast_m, dtype=float)
    observed = np.asarray(observed_m, dtype=float)
    error = forecast - observed
    if error.size == 0:
        return {"n": 0, "mae_m": None, "rmse_m": None, "nse_median": None,
                "nse_stations": 0, "within_0_15": None}  # fmt: skip
    nse = station_nse(forecast, observed, np.asarray(stations))
    return {
        "n": int(error.size),
        "mae_m": _round(np.mean(np.abs(error))),
        "rmse_m": _round(np.sqrt(np.mean(error**2))),
        "nse_median": _round(np.median(nse)) if nse.size else None,
        "nse_stations": int(nse.size),
        "within_0_15": _round(within_share(error)),
    }


def within_share(error_m: np.ndarray) -> float:
    """Share of errors within +-0.15 m."""
    return float(np.mean(np.abs(error_m) <= WITHIN_M + _WITHIN_TOLERANCE_M))


def station_nse(
    forecast_m: np.ndarray, observed_m: np.ndarray, stations: np.ndarray
) -> np.ndarray:
    """NSE of each station with enough varying observations (unordered)."""
    frame = pd.DataFrame({"s": stations, "f": forecast_m, "o": observed_m})
    grouped = frame.groupby("s")["o"]
    frame["anomaly"] = frame["o"] - grouped.transform("mean")
    frame["sq_error"] = (frame["f"] - frame["o"]) ** 2
    frame["sq_anomaly"] = frame["anomaly"] ** 2
    sums = frame.groupby("s")[["sq_error", "sq_anomaly"]].sum()
    counts = grouped.size()
    usable = (counts >= NSE_MIN_PAIRS) & (sums["sq_anomaly"] > 0)
    sums = sums[usable]
    return (1.0 - sums["sq_error"] / sums["sq_anomaly"]).to_numpy()


def score_against_persistence(scored: pd.DataFrame) -> dict:
    """Score ARGUS and persistence per bucket on the same pairs.

    ``scored`` has station_code, issued_at, lead_h, level_m, p10_m, p90_m,
    persistence_m and observed_m, one row per forecast with its truth.
    """
    buckets = {}
    for name, part in _by_bucket(scored, scored["lead_h"]):
        argus = error_scores(part["level_m"], part["observed_m"], part["station_code"])
        inside = part["observed_m"].between(part["p10_m"], part["p90_m"])
        argus["p10_p90_coverage"] = _round(inside.mean()) if len(part) else None
        buckets[name] = {
            "argus": argus,
            "persistence": error_scores(
                part["persistence_m"], part["observed_m"], part["station_code"]
            ),
        }
    return buckets


def match_official(
    official: pd.DataFrame, forecasts: pd.DataFrame, truth: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Pair each CWC forecast with ARGUS's forecast for the same station and time.

    A CWC forecast issued at t for valid time v is matched with the ARGUS
    forecast issued at the last whole IST hour at or before t for the same
    station and v. Its bucket is that of v - t rounded up to a whole hour.

    Parameters
    ----------
    official
        station_code, issued_at, forecast_for, level_m (CWC's forecasts).
    forecasts
        ARGUS's: station_code, issued_at, valid_at, level_m.
    truth
        station_code, observed_at, level_m.

    Returns
    -------
    pairs : pandas.DataFrame
        station_code, cwc_issued_at, valid_at, bucket, cwc_m, argus_m,
        observed_m.
    unmatched : dict
        Counts of CWC forecasts left out, by reason.
    set_aside : list of str
        Stations with forecasts set aside as implausible (see below).

    A CWC forecast more than :data:`MAX_OFFICIAL_DEVIATION_M` from the median
    of its station's observed levels is set aside. The recorded polls carry
    such values under the level datatype, for example 68.94 m at a gauge
    reading about 243 m, and they are not levels of that gauge.
    """
    cwc = official.rename(
        columns={"issued_at": "cwc_issued_at", "forecast_for": "valid_at"}
    )
    cwc = cwc.assign(cwc_m=cwc["level_m"].astype(float)).drop(columns="level_m")
    typical = truth.groupby("station_code")["level_m"].median()
    deviation = (cwc["cwc_m"] - cwc["station_code"].map(typical)).abs()
    implausible = deviation > MAX_OFFICIAL_DEVIATION_M
    if implausible.any():
        logger.warning(
            "%d CWC forecasts set aside, more than %.0f m from the median level "
            "observed at their station: %s",
            int(implausible.sum()),
            MAX_OFFICIAL_DEVIATION_M,
            ", ".join(sorted(cwc.loc[implausible, "station_code"].unique())),
        )
    set_aside = sorted(cwc.loc[implausible, "station_code"].unique())
    cwc = cwc[~implausible]
    ahead_h = (cwc["valid_at"] - cwc["cwc_issued_at"]) / pd.Timedelta(hours=1)
    cwc["bucket"] = bucket_of(np.ceil(ahead_h))
    cwc["issued_at"] = _ist_hour_floor(cwc["cwc_issued_at"])
    unmatched = {
        "implausible_level": int(implausible.sum()),
        "lead_outside_1_24h": int(cwc["bucket"].isna().sum()),
    }
    cwc = cwc[cwc["bucket"].notna()]

    argus = forecasts[["station_code", "issued_at", "valid_at", "level_m"]]
    paired = cwc.merge(
        argus.rename(columns={"level_m": "argus_m"}),
        on=["station_code", "issued_at", "valid_at"],
        how="left",
    )
    unmatched["no_argus_forecast"] = int(paired["argus_m"].isna().sum())
    paired = paired[paired["argus_m"].notna()]

    observed = truth.rename(
        columns={"observed_at": "valid_at", "level_m": "observed_m"}
    )
    paired = paired.merge(observed, on=["station_code", "valid_at"], how="left")
    unmatched["no_truth"] = int(paired["observed_m"].isna().sum())
    paired = paired[paired["observed_m"].notna()]
    columns = ["station_code", "cwc_issued_at", "valid_at", "bucket", "cwc_m"]
    pairs = paired[[*columns, "argus_m", "observed_m"]].reset_index(drop=True)
    return pairs, unmatched, set_aside


def score_official(pairs: pd.DataFrame, *, seed: int) -> dict:
    """Score CWC and ARGUS on the matched pairs, per bucket and over 1-24 h."""
    groups = [*_by_bucket(pairs, pairs["bucket"], from_names=True), ("1-24", pairs)]
    clusters = station_days(pairs)
    scores = {}
    for name, part in groups:
        cwc_error = (part["cwc_m"] - part["observed_m"]).to_numpy()
        argus_error = (part["argus_m"] - part["observed_m"]).to_numpy()
        scores[name] = {
            "pairs": len(part),
            "stations": int(part["station_code"].nunique()),
            "cwc_mae_m": _round(np.mean(np.abs(cwc_error))) if len(part) else None,
            "cwc_within_0_15": _round(within_share(cwc_error)) if len(part) else None,
            "argus_mae_m": _round(np.mean(np.abs(argus_error))) if len(part) else None,
            "argus_within_0_15": _round(within_share(argus_error))
            if len(part)
            else None,
            **mae_difference_interval(
                argus_error, cwc_error, clusters=clusters[part.index], seed=seed
            ),
        }
    return scores


def station_days(pairs: pd.DataFrame) -> pd.Series:
    """Bootstrap cluster of each pair: its station and the IST day of CWC's issue."""
    issued = pd.to_datetime(pairs["cwc_issued_at"], utc=True)
    day = issued.dt.tz_convert(IST).dt.strftime("%Y-%m-%d")
    return pairs["station_code"].astype(str) + " " + day


def mae_difference_interval(
    first_error: np.ndarray,
    second_error: np.ndarray,
    *,
    clusters: pd.Series,
    seed: int,
) -> dict:
    """Paired cluster bootstrap 90 % interval of MAE(first) - MAE(second) [m].

    Whole clusters (station-days, see :func:`station_days`) are resampled
    with replacement :data:`BOOTSTRAP_SAMPLES` times, because the errors of
    one station on one day are strongly correlated. Each resample's
    difference is the mean over the pairs of its clusters, and the interval
    is the 5th and 95th percentile of those. A negative difference means the
    first has the smaller error. With fewer than two clusters there is no
    interval (None), because resampling one cluster only repeats it.
    """
    n_clusters = int(clusters.nunique())
    if len(first_error) == 0:
        return {
            "mae_difference_m": None,
            "mae_difference_90ci_m": None,
            "bootstrap_clusters": 0,
        }
    gap = np.abs(first_error) - np.abs(second_error)
    estimate, low, high = paired_bootstrap(
        gap, clusters.to_numpy(), seed=seed, n_boot=BOOTSTRAP_SAMPLES
    )
    return {
        "mae_difference_m": estimate,
        "mae_difference_90ci_m": [low, high] if n_clusters >= 2 else None,
        "bootstrap_clusters": n_clusters,
    }


def model_shares(forecasts: pd.DataFrame) -> dict:
    """Number and share of station forecasts (rows) each model served."""
    counts = forecasts["model"].value_counts()
    total = int(counts.sum())
    return {
        str(model): {"rows": int(count), "share": _round(count / total)}
        for model, count in counts.items()
    }


def _by_bucket(frame: pd.DataFrame, key: pd.Series, *, from_names: bool = False):
    names = key if from_names else bucket_of(key)
    for name in BUCKETS:
        yield name, frame[names == name]


def _ist_hour_floor(times: pd.Series) -> pd.Series:
    """Last whole IST hour at or before each time, in UTC."""
    return times.dt.tz_convert(IST).dt.floor("h").dt.tz_convert("UTC")


def _round(value) -> float:
    return round(float(value), 4)
