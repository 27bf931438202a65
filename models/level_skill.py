"""Skill of level forecasts per lead bucket, with cluster bootstrap intervals.

Scores follow CWC's own accuracy criterion (a forecast within +/-0.15 m of the
observed level counts as accurate) beside the mean absolute error and the
share of observations inside the p10-p90 band. Errors at neighbouring issue
hours of one station are strongly correlated, so intervals resample whole
clusters (one station on one issue day), not single forecasts; an interval
over single forecasts would be far too narrow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BUCKETS: dict[str, tuple[int, int]] = {
    "1-6": (1, 6),
    "7-12": (7, 12),
    "13-24": (13, 24),
}
"""Lead-time buckets [h], both ends included."""

ACCURATE_M = 0.15
"""CWC's accuracy criterion: a forecast within this of the observation [m]."""

# Float rounding must not move a forecast exactly 0.15 m off outside the band.
_TOLERANCE_M = 1e-9


def bucket_of(lead_h: pd.Series | np.ndarray) -> np.ndarray:
    """Name of the bucket of each lead time [h]; empty text outside 1..24 h."""
    lead = np.asarray(lead_h)
    names = np.full(lead.shape, "", dtype=object)
    for name, (low, high) in BUCKETS.items():
        names[(lead >= low) & (lead <= high)] = name
    return names


def within(error_m: np.ndarray) -> np.ndarray:
    """Whether each absolute error is within CWC's +/-0.15 m."""
    return np.abs(error_m) <= ACCURATE_M + _TOLERANCE_M


def skill_table(
    scored: pd.DataFrame,
    *,
    models: tuple[str, ...],
    reference: str = "persistence",
    seed: int = 0,
    n_boot: int = 1000,
) -> dict[str, dict]:
    """Score each model per lead bucket, with its MAE difference to ``reference``.

    Parameters
    ----------
    scored
        One row per forecast: ``station_code``, ``issued_at``, ``lead_h``,
        ``truth_m`` and, per model ``m``, ``m_p50`` (and ``m_p10``, ``m_p90``
        where the model gives a band) [m].
    models
        Models to score; ``reference`` must be among them.
    seed, n_boot
        Bootstrap seed and resamples.

    Returns
    -------
    dict
        Bucket name to ``{"n", "<model>": {...}}``; each model has ``mae_m``,
        ``within_0_15``, ``coverage_p10_p90`` (when banded) and, except the
        reference, ``mae_diff_m`` with its 90 % interval ``mae_diff_ci90_m``.
    """
    table: dict[str, dict] = {}
    buckets = bucket_of(scored["lead_h"])
    clusters = cluster_ids(scored)
    for name in BUCKETS:
        part = scored[buckets == name]
        entry: dict = {"n": len(part)}
        if len(part):
            base = np.abs(part[f"{reference}_p50"] - part["truth_m"]).to_numpy()
            for model in models:
                entry[model] = _model_scores(part, model)
                if model != reference:
                    error = np.abs(part[f"{model}_p50"] - part["truth_m"]).to_numpy()
                    estimate, low, high = paired_bootstrap(
                        error - base,
                        clusters[buckets == name],
                        seed=seed,
                        n_boot=n_boot,
                    )
                    entry[model]["mae_diff_m"] = estimate
                    entry[model]["mae_diff_ci90_m"] = [low, high]
        table[name] = entry
    return table


def cluster_ids(scored: pd.DataFrame) -> np.ndarray:
    """One id per station and issue day: the unit the bootstrap resamples."""
    day = pd.to_datetime(scored["issued_at"], utc=True).dt.floor("D").astype(str)
    key = scored["station_code"].astype(str) + "|" + day
    return pd.factorize(key)[0]


def paired_bootstrap(
    difference: np.ndarray, clusters: np.ndarray, *, seed: int, n_boot: int = 1000
) -> tuple[float, float, float]:
    """Mean of paired differences and its 90 % cluster bootstrap interval."""
    estimate = float(np.mean(difference))
    if len(difference) < 2:
        return round(estimate, 4), float("nan"), float("nan")
    codes = pd.factorize(clusters)[0]
    n_clusters = codes.max() + 1
    sums = np.bincount(codes, weights=difference, minlength=n_clusters)
    counts = np.bincount(codes, minlength=n_clusters)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.quantile(means, [0.05, 0.95])
    return round(estimate, 4), round(float(low), 4), round(float(high), 4)


def _model_scores(part: pd.DataFrame, model: str) -> dict:
    error = (part[f"{model}_p50"] - part["truth_m"]).to_numpy()
    scores = {
        "mae_m": round(float(np.mean(np.abs(error))), 4),
        "within_0_15": round(float(np.mean(within(error))), 4),
    }
    if f"{model}_p10" in part:
        inside = (part["truth_m"] >= part[f"{model}_p10"]) & (
            part["truth_m"] <= part[f"{model}_p90"]
        )
        scores["coverage_p10_p90"] = round(float(inside.mean()), 4)
    return scores


def beats_reference(
    table: dict[str, dict], *, model: str, reference: str = "persistence"
) -> list[str]:
    """Buckets where ``model``'s MAE is not lower than ``reference``'s.

    A bucket without forecasts counts as not beaten. An empty list means the
    model wins everywhere.
    """
    failures = []
    for name in BUCKETS:
        entry = table.get(name, {})
        if not entry.get("n"):
            failures.append(f"{name} h: no forecasts to score")
            continue
        mine, theirs = entry[model]["mae_m"], entry[reference]["mae_m"]
        if not mine < theirs:
            failures.append(
                f"{name} h: MAE {mine:.3f} m against {reference} {theirs:.3f} m"
            )
    return failures
