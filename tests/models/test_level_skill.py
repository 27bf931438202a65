"""Skill scores per lead bucket, bootstrap intervals and the promotion rule."""

import numpy as np
import pandas as pd
import pytest

from models.level_skill import (
    beats_reference,
    bucket_of,
    paired_bootstrap,
    skill_table,
    within,
)


def _scored(model_error_m: float, persistence_error_m: float) -> pd.DataFrame:
    leads = np.tile(np.arange(1, 25), 4)
    truth = np.full(len(leads), 50.0)
    return pd.DataFrame(
        {
            "station_code": np.repeat(["A", "B", "C", "D"], 24),
            "issued_at": pd.Timestamp("2026-08-01T00:30Z"),
            "lead_h": leads,
            "truth_m": truth,
            "argus_p10": truth - 1.0,
            "argus_p50": truth + model_error_m,
            "argus_p90": truth + 1.0,
            "persistence_p50": truth - persistence_error_m,
        }
    )


def test_bucket_of_edges():
    assert list(bucket_of(np.array([0, 1, 6, 7, 12, 13, 24, 25]))) == [
        "",
        "1-6",
        "1-6",
        "7-12",
        "7-12",
        "13-24",
        "13-24",
        "",
    ]


def test_within_counts_exact_limit():
    assert list(within(np.array([0.15, -0.15, 0.1500001, 0.0]))) == [
        True,
        True,
        False,
        True,
    ]


def test_skill_table_scores_each_bucket():
    table = skill_table(_scored(0.1, 0.2), models=("argus", "persistence"), n_boot=50)

    assert table["1-6"]["n"] == 24
    assert table["13-24"]["n"] == 48
    assert table["7-12"]["argus"]["mae_m"] == pytest.approx(0.1)
    assert table["7-12"]["argus"]["within_0_15"] == 1.0
    assert table["7-12"]["persistence"]["within_0_15"] == 0.0
    assert table["7-12"]["argus"]["coverage_p10_p90"] == 1.0
    assert table["7-12"]["argus"]["mae_diff_m"] == pytest.approx(-0.1)


def test_promotion_refused_when_worse_at_one_bucket():
    frame = _scored(0.1, 0.2)
    late = frame["lead_h"] > 12
    frame.loc[late, "argus_p50"] = frame.loc[late, "truth_m"] + 0.3
    table = skill_table(frame, models=("argus", "persistence"), n_boot=50)

    failures = beats_reference(table, model="argus")

    assert failures == ["13-24 h: MAE 0.300 m against persistence 0.200 m"]


def test_promotion_refused_without_forecasts():
    table = skill_table(
        _scored(0.1, 0.2).iloc[:0], models=("argus", "persistence"), n_boot=50
    )

    assert len(beats_reference(table, model="argus")) == 3


def test_paired_bootstrap_interval_contains_mean():
    rng = np.random.default_rng(1)
    difference = rng.normal(-0.05, 0.02, size=200)
    clusters = np.repeat(np.arange(20), 10)

    estimate, low, high = paired_bootstrap(difference, clusters, seed=0, n_boot=200)

    assert low < estimate < high
    assert high < 0
