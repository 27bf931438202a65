"""The cluster bootstrap of the MAE difference against CWC's forecasts."""

import numpy as np
import pandas as pd
import pytest

from argus.backtest import skill

SEED = 0


def _day_clusters(n_days: int, hours: int) -> pd.Series:
    return pd.Series([f"A {day}" for day in range(n_days) for _ in range(hours)])


def _interval(gap: np.ndarray, clusters: pd.Series) -> dict:
    """MAE difference of errors ``gap`` + 1 against errors of 1 [m]."""
    return skill.mae_difference_interval(
        gap + 1.0, np.ones_like(gap), clusters=clusters, seed=SEED
    )


def test_interval_spans_cluster_means():
    # Ten station-days of 24 hours; within a day every pair has the same gap,
    # as strongly correlated hourly errors do.
    day_gap = np.linspace(-0.5, 0.4, 10)
    gap = np.repeat(day_gap, 24)

    result = _interval(gap, _day_clusters(10, 24))

    low, high = result["mae_difference_90ci_m"]
    assert result["bootstrap_clusters"] == 10
    assert result["mae_difference_m"] == pytest.approx(day_gap.mean(), abs=1e-4)
    # The 90 % interval of a mean of 10 independent day values, in the normal
    # approximation; the percentile interval lies near it.
    half_width = 1.645 * day_gap.std() / np.sqrt(10)
    assert high - low == pytest.approx(2 * half_width, rel=0.2)


def test_interval_wider_than_pair_resampling():
    day_gap = np.linspace(-0.5, 0.4, 10)
    gap = np.repeat(day_gap, 24)

    by_day = _interval(gap, _day_clusters(10, 24))
    by_pair = _interval(gap, pd.Series(np.arange(gap.size).astype(str)))

    day_low, day_high = by_day["mae_difference_90ci_m"]
    pair_low, pair_high = by_pair["mae_difference_90ci_m"]
    # Resampling 240 pairs as if independent narrows the interval by about
    # sqrt(24), the pairs per day.
    assert (day_high - day_low) > 3 * (pair_high - pair_low)


def test_interval_repeats_with_seed():
    gap = np.random.default_rng(1).normal(size=48)
    clusters = _day_clusters(4, 12)

    assert _interval(gap, clusters) == _interval(gap, clusters)


def test_single_cluster_has_no_interval():
    result = _interval(np.array([0.1, 0.3]), _day_clusters(1, 2))

    assert result["mae_difference_m"] == pytest.approx(0.2)
    assert result["mae_difference_90ci_m"] is None
    assert result["bootstrap_clusters"] == 1


def test_no_pairs_no_difference():
    result = _interval(np.array([]), pd.Series([], dtype=str))

    assert result == {
        "mae_difference_m": None,
        "mae_difference_90ci_m": None,
        "bootstrap_clusters": 0,
    }


def test_station_days_use_ist_day():
    pairs = pd.DataFrame(
        {
            "station_code": ["A", "A", "A", "B"],
            # 18:29 UTC is 23:59 IST; 18:30 UTC is the next IST day.
            "cwc_issued_at": pd.to_datetime(
                [
                    "2026-07-27T18:29Z",
                    "2026-07-27T05:00Z",
                    "2026-07-27T18:30Z",
                    "2026-07-27T05:00Z",
                ],
                utc=True,
            ),
        }
    )

    days = skill.station_days(pairs)

    assert days.tolist() == [
        "A 2026-07-27",
        "A 2026-07-27",
        "A 2026-07-28",
        "B 2026-07-27",
    ]
