"""Training and validation of the flood-risk model, and its card.

Validation (all on circle-months, the unit of the outcomes):

- by time: trained on the months before ``HELD_OUT_FROM``, tested on the
  monsoons after it (2024, 2025 and 2026 to July);
- by area: the districts are dealt into ``AREA_FOLDS`` folds; each fold's
  circles are predicted by a model trained on the other districts.

Each split is scored with three feature sets (``FEATURE_SETS``). "full" has
the features as recorded. "live" has rain and flooded fraction missing, as in
a cycle without a fresh satellite scene. "live with satellite" has rain
missing and the recorded flooded fraction, as in a cycle with a fresh scene,
so the fraction is still missing in months without a Bhuvan layer.

The baseline is the climatology of the circle: its share of flooded months in
the same calendar month of the training years, shrunk towards that calendar
month's share over all training circles (a circle never seen gets the
latter). The model is promoted only when its Brier score with the "live"
features beats the baseline in both splits (see :func:`_promotion`), so that
a cycle without a scene is not worse than climatology.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.stats import rankdata

from models.risk import (
    CARD_JSON,
    CARD_MARKDOWN,
    HIGH_RISK_PROBABILITY,
    MODEL_FILE,
    N_ROUNDS,
    PARAMS,
    fit,
    predict_probability,
    with_optional_missing,
)
from models.risk_data import FEATURES, OPTIONAL_FEATURES, RAIN_FEATURES

logger = logging.getLogger(__name__)

HELD_OUT_FROM = "2024-01"
AREA_FOLDS = 5
# Pseudo-count of the climatology's shrinkage towards the calendar-month share.
CLIMATOLOGY_PRIOR_MONTHS = 2.0
BOOTSTRAP_SAMPLES = 300
# Feature sets scored in each split, as keys of the card's validation, and
# their names in the card's table.
FEATURE_SETS = {
    "full_features": "full",
    "live_features": "live",
    "live_satellite_features": "live with satellite",
}
# The promotion rule, written into the card beside the decision.
PROMOTION_RULE = (
    "promoted when, by time and by area, the whole 90 % bootstrap interval of "
    "the Brier score of the 'live' rows minus that of the circle climatology is "
    "below zero. The 'live with satellite' rows and the AUC are reported, not "
    "required"
)


def train(table: pd.DataFrame, out_dir: Path, *, version: str, seed: int = 0) -> dict:
    """Validate, train on every row, and write the model and its card.

    Parameters
    ----------
    table
        Output of :func:`models.risk_data.build_training_table` (or a cut).
    out_dir
        Artifact folder, created; ``model.ubj``, ``card.json``, ``card.md``.
    version
        Name of this model version, written into the card.
    seed
        Seed of XGBoost's row and column sampling and of the bootstrap.

    Returns
    -------
    dict
        The card (also in ``card.json``).
    """
    validation = {
        "by_time": _score_split(table, _time_folds(table), seed=seed),
        "by_area": _score_split(table, _area_folds(table, seed=seed), seed=seed),
    }
    promoted, why = _promotion(validation)
    booster = fit(table, seed=seed)
    card = _card(table, validation, booster, version=version, seed=seed)
    card["promoted"], card["promotion_reason"] = promoted, why
    out_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(out_dir / MODEL_FILE))
    (out_dir / CARD_JSON).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (out_dir / CARD_MARKDOWN).write_text(card_markdown(card))
    logger.info(
        "risk model %s written to %s (promoted: %s)", version, out_dir, promoted
    )
    return card


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / (positives x negatives))."""
    labels = np.asarray(labels, dtype=bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    u = ranks[labels].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def brier(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Brier score: mean squared difference of probability and outcome."""
    return float(np.mean((np.asarray(probabilities) - np.asarray(labels, float)) ** 2))


def climatology(train_rows: pd.DataFrame, test_rows: pd.DataFrame) -> np.ndarray:
    """Baseline probability of each test row from the training months."""
    month = train_rows["period"].str[5:7]
    by_month = train_rows.groupby(month)["flooded"].mean()
    counts = train_rows.groupby([train_rows["object_id"], month])["flooded"].agg(
        ["sum", "count"]
    )
    test_month = test_rows["period"].str[5:7]
    prior = test_month.map(by_month).fillna(train_rows["flooded"].mean()).to_numpy()
    index = pd.MultiIndex.from_arrays([test_rows["object_id"], test_month])
    hits = counts["sum"].reindex(index).fillna(0).to_numpy()
    seen = counts["count"].reindex(index).fillna(0).to_numpy()
    return (hits + CLIMATOLOGY_PRIOR_MONTHS * prior) / (seen + CLIMATOLOGY_PRIOR_MONTHS)


def _time_folds(table: pd.DataFrame) -> list[np.ndarray]:
    return [(table["period"] >= HELD_OUT_FROM).to_numpy()]


def _area_folds(table: pd.DataFrame, *, seed: int) -> list[np.ndarray]:
    districts = np.array(sorted(table["district"].dropna().unique()))
    order = np.random.default_rng(seed).permutation(len(districts))
    folds = [set(districts[order[i::AREA_FOLDS]]) for i in range(AREA_FOLDS)]
    return [table["district"].isin(fold).to_numpy() for fold in folds if fold]


def _score_split(table: pd.DataFrame, folds: list[np.ndarray], *, seed: int) -> dict:
    """Out-of-fold predictions of model and baseline, scored."""
    labels, baseline = [], []
    predictions = {kind: [] for kind in FEATURE_SETS}
    for test in folds:
        train_rows, test_rows = table[~test], table[test]
        booster = fit(train_rows, seed=seed)
        labels.append(test_rows["flooded"].to_numpy(bool))
        for kind, rows in _feature_sets(test_rows).items():
            predictions[kind].append(predict_probability(booster, rows))
        baseline.append(climatology(train_rows, test_rows))
    y = np.concatenate(labels)
    baseline = np.concatenate(baseline)
    scores = {
        kind: _scores(y, np.concatenate(predicted), baseline, seed)
        for kind, predicted in predictions.items()
    }
    scores["rows"], scores["flooded"] = len(y), int(y.sum())
    test_rows = table[np.any(folds, axis=0)]
    scores["flooded_fraction_known"] = int(test_rows["flooded_fraction"].notna().sum())
    return scores


def _feature_sets(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Copy the test rows once per entry of ``FEATURE_SETS``, features set missing."""
    return {
        "full_features": rows,
        "live_features": with_optional_missing(rows),
        "live_satellite_features": rows.assign(
            **{name: np.nan for name in RAIN_FEATURES}
        ),
    }


def _scores(y: np.ndarray, model: np.ndarray, baseline: np.ndarray, seed: int) -> dict:
    high = model >= HIGH_RISK_PROBABILITY
    hits = int((high & y).sum())
    result = {
        "model_auc": auc(y, model),
        "baseline_auc": auc(y, baseline),
        "model_brier": brier(y, model),
        "baseline_brier": brier(y, baseline),
        "pod_at_high_risk": hits / max(int(y.sum()), 1),
        "far_at_high_risk": (int(high.sum()) - hits) / max(int(high.sum()), 1),
    }
    result["brier_skill_score"] = 1 - result["model_brier"] / result["baseline_brier"]
    result |= _bootstrap(y, model, baseline, seed)
    return {key: round(float(value), 4) for key, value in result.items()}


def _bootstrap(
    y: np.ndarray, model: np.ndarray, baseline: np.ndarray, seed: int
) -> dict:
    """90 % intervals of the model-minus-baseline AUC and Brier, resampling rows."""
    rng = np.random.default_rng(seed)
    auc_gain, brier_gain = [], []
    for _ in range(BOOTSTRAP_SAMPLES):
        rows = rng.integers(0, len(y), len(y))
        auc_gain.append(auc(y[rows], model[rows]) - auc(y[rows], baseline[rows]))
        brier_gain.append(brier(y[rows], model[rows]) - brier(y[rows], baseline[rows]))
    low, high = np.nanpercentile(auc_gain, [5, 95])
    brier_low, brier_high = np.nanpercentile(brier_gain, [5, 95])
    return {
        "auc_difference_p05": low,
        "auc_difference_p95": high,
        "brier_difference_p05": brier_low,
        "brier_difference_p95": brier_high,
    }


def _promotion(validation: dict) -> tuple[bool, str]:
    """Promote when the live Brier score beats climatology in both splits.

    The Brier score is a proper score of the probabilities that the
    combination rule thresholds. "Beats" means that the whole 90 % bootstrap
    interval of model minus baseline is below zero. AUC and the "live with
    satellite" rows are reported, not required (``PROMOTION_RULE``).
    """
    failures = []
    for split, scores in validation.items():
        live = scores["live_features"]
        if not live["brier_difference_p95"] < 0:
            failures.append(
                f"{split}: Brier {live['model_brier']} vs baseline "
                f"{live['baseline_brier']}, difference up to "
                f"{live['brier_difference_p95']:+}"
            )
    if failures:
        return False, "live features do not beat climatology: " + "; ".join(failures)
    return True, (
        "the live-feature Brier score beats the circle climatology by time and "
        "by area (90 % interval below zero)"
    )


def _card(
    table: pd.DataFrame,
    validation: dict,
    booster: xgb.Booster,
    *,
    version: str,
    seed: int,
) -> dict:
    gain = booster.get_score(importance_type="gain")
    return {
        "name": "village flood risk",
        "version": version,
        "model": f"XGBoost {xgb.__version__} binary:logistic",
        "params": {**PARAMS, "seed": seed, "rounds": N_ROUNDS},
        "features": list(FEATURES),
        "optional_features": list(OPTIONAL_FEATURES),
        "high_risk_probability": HIGH_RISK_PROBABILITY,
        "training_rows": len(table),
        "training_flooded": int(table["flooded"].sum()),
        "circles": int(table["object_id"].nunique()),
        "period": [str(table["period"].min()), str(table["period"].max())],
        "label_sources": {
            k: int(v) for k, v in table["label_source"].value_counts().items()
        },
        "feature_coverage": {
            name: round(float(table[name].notna().mean()), 4) for name in FEATURES
        },
        "gain": {name: round(float(gain.get(name, 0.0)), 4) for name in FEATURES},
        "held_out_from": HELD_OUT_FROM,
        "area_folds": AREA_FOLDS,
        "validation": validation,
    }


def card_markdown(card: dict) -> str:
    """Write the card as a short markdown page."""
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        (
            f"{card['model']}, {card['params']['rounds']} trees of depth "
            f"{card['params']['max_depth']}, seed {card['params']['seed']}."
        ),
        "",
        "## Data",
        "",
        f"{card['training_rows']} revenue-circle months of {card['circles']} circles, "
        f"{card['period'][0]} to {card['period'][1]}; {card['training_flooded']} "
        "with population affected (the label). Labels by source: "
        + ", ".join(f"{k} {v}" for k, v in card["label_sources"].items())
        + ".",
        "",
        "| feature | share of rows known | gain |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {card['feature_coverage'][name]:.2f} | {card['gain'][name]:.2f} |"
        for name in card["features"]
    ]
    lines += [
        "",
        "## Validation",
        "",
        (
            f"By time: trained before {card['held_out_from']}, tested from then on. "
            f"By area: {card['area_folds']} folds of whole districts. Baseline: the "
            "circle's climatology for the calendar month. 'live' scores the model "
            "with rain and flooded fraction missing, as a cycle without a fresh "
            "satellite scene computes them. 'live with satellite' scores it with "
            "rain missing and the recorded flooded fraction, as a cycle with a "
            "fresh scene computes them; the fraction is still missing in months "
            "without a Bhuvan layer. Intervals: 90 % bootstrap of model minus "
            "baseline."
        ),
        "",
        (
            "| split | features | rows | flooded | AUC model | AUC baseline | AUC diff 90 % | "
            "Brier model | Brier baseline | Brier diff 90 % | POD | FAR |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for split, scores in card["validation"].items():
        for kind, label in FEATURE_SETS.items():
            s = scores[kind]
            lines.append(
                f"| {split} | {label} | {scores['rows']} | {scores['flooded']} "
                f"| {s['model_auc']:.3f} | {s['baseline_auc']:.3f} "
                f"| {s['auc_difference_p05']:+.3f}..{s['auc_difference_p95']:+.3f} "
                f"| {s['model_brier']:.4f} | {s['baseline_brier']:.4f} "
                f"| {s['brier_difference_p05']:+.4f}..{s['brier_difference_p95']:+.4f} "
                f"| {s['pod_at_high_risk']:.2f} | {s['far_at_high_risk']:.2f} |"
            )
    known = ", ".join(
        f"{split} {scores['flooded_fraction_known']} of {scores['rows']}"
        for split, scores in card["validation"].items()
    )
    lines += [
        "",
        (
            f"POD and FAR at probability >= {card['high_risk_probability']}. Test "
            f"rows with a recorded flooded fraction: {known}."
        ),
        "",
        "## Promotion",
        "",
        f"Rule: {PROMOTION_RULE}.",
        "",
        f"{'Promoted' if card['promoted'] else 'Not promoted'}: {card['promotion_reason']}.",
        "",
        "## Limits",
        "",
        (
            "- Outcomes are per revenue circle and month; the model is applied per "
            "village and cycle with the feature definitions of "
            "`models/risk_data.py`, which match training except for the flooded "
            "fraction (last item). It ranks exposure; it is not a calibrated "
            "probability that one village floods in the next hours."
        ),
        (
            "- The river-level feature exists for the circles with a CWC gauge on "
            "the datum of the circle's level series, and not after 2024; elsewhere "
            "the model leans on static exposure."
        ),
        (
            "- Labels are reports: a month without a DRIMS row counts as not flooded, "
            "and reporting changed over the years."
        ),
        "- Vulnerability, elevation and river distance are circle averages.",
        (
            "- The flooded fraction of training is the share of the circle that "
            "Bhuvan mapped as inundated at any time in the month. Live it is the "
            "flooded share within the satellite radius (2 km by default) of the "
            "village in the newest scene no older than the satellite age limit. "
            "The 'live with satellite' rows score the circle share, so they do "
            "not measure how well the village share stands in for it."
        ),
        "",
    ]
    return "\n".join(lines)
