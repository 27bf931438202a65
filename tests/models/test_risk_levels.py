"""Combination of CWC levels and flood risk: raises, never lowers, explains."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from argus.exposure import EXPOSURE_COLUMNS
from argus.features import build_features
from models.risk_data import FEATURES
from models.risk_levels import combine_levels, live_risk_features
from models.village_levels import decide_levels

NOW = datetime(2026, 7, 28, 6, 30, tzinfo=UTC)
RANK = {"UNMONITORED": -1, "NORMAL": 0, "WATCH": 1, "WARNING": 2, "EMERGENCY": 3}
# Guwahati D.C. Court thresholds: warning 48.68, danger 49.68, HFL 51.46 m.
GUWAHATI = (48.68, 49.68, 51.46)
# village: (level [m], hours old, warning, danger, HFL, p90 peak [m] or None)
GAUGES = {
    "far": (47.0, 1, *GUWAHATI, None),
    "near": (48.3, 1, *GUWAHATI, None),
    "watch": (47.5, 1, *GUWAHATI, 49.0),
    "warning": (48.9, 1, *GUWAHATI, None),
    "emergency": (49.9, 1, *GUWAHATI, None),
    "stale": (48.3, 30, *GUWAHATI, None),
    "no_warning_near": (48.5, 1, np.nan, 49.68, 51.46, None),
    "no_warning_far": (47.0, 1, np.nan, 49.68, 51.46, None),
}


def _features():
    codes = [f"G-{name}" for name in GAUGES]
    rows = list(GAUGES.values())
    gauges = pd.DataFrame(
        {
            "station_code": codes,
            "level_m": [r[0] for r in rows],
            "observed_at": [NOW - timedelta(hours=r[1]) for r in rows],
            "rate_m_per_h": 0.0,
            "warning_level_m": [r[2] for r in rows],
            "danger_level_m": [r[3] for r in rows],
            "highest_flood_level_m": [r[4] for r in rows],
        }
    )
    forecasts = pd.DataFrame(
        [
            {
                "station_code": code,
                "lead_time_h": lead,
                "p10_m": row[0],
                "p50_m": row[0],
                "p90_m": row[5] if row[5] is not None else row[0],
            }
            for code, row in zip(codes, rows, strict=True)
            for lead in (1, 6)
        ]
    )
    villages = pd.DataFrame({"village_id": list(GAUGES), "station_code": codes})
    return build_features(villages, gauges, forecasts, now=NOW)


@pytest.fixture
def features():
    return _features()


@pytest.fixture
def exposure(exposure_data):
    """Every test village placed at Dibrugarh town (inside its circle)."""
    from argus.exposure import village_exposure

    places = pd.DataFrame({"village_id": list(GAUGES), "lat": 27.48, "lon": 94.91})
    return village_exposure(places, exposure_data)


def _combine(features, exposure, model):
    levels = decide_levels(features)
    risk = live_risk_features(features, exposure, now=NOW)
    return levels, combine_levels(levels, risk, model)


def test_hydrological_levels_of_cases(features):
    levels = decide_levels(features).set_index("village_id")["level"]
    assert levels.to_dict() == {
        "far": "NORMAL",
        "near": "NORMAL",
        "watch": "WATCH",
        "warning": "WARNING",
        "emergency": "EMERGENCY",
        "stale": "UNMONITORED",
        "no_warning_near": "NORMAL",
        "no_warning_far": "NORMAL",
    }


def test_high_risk_raises_near_warning(features, exposure, small_model):
    always_high = dataclasses.replace(small_model, high_risk_probability=0.0)
    _, combined = _combine(features, exposure, always_high)
    level = combined.set_index("village_id")["level"].to_dict()
    assert level["near"] == "WATCH"
    assert level["watch"] == "WARNING"
    assert level["no_warning_near"] == "WATCH"


def test_high_risk_leaves_far_and_top_levels(features, exposure, small_model):
    always_high = dataclasses.replace(small_model, high_risk_probability=0.0)
    _, combined = _combine(features, exposure, always_high)
    level = combined.set_index("village_id")["level"].to_dict()
    assert level["far"] == "NORMAL"
    assert level["no_warning_far"] == "NORMAL"
    assert level["warning"] == "WARNING"
    assert level["emergency"] == "EMERGENCY"
    assert level["stale"] == "UNMONITORED"


def test_low_risk_changes_nothing(features, exposure, small_model):
    never_high = dataclasses.replace(small_model, high_risk_probability=1.01)
    levels, combined = _combine(features, exposure, never_high)
    assert combined["level"].tolist() == levels["level"].tolist()


@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.2, 0.5, 0.9, 1.01])
def test_combination_never_lowers(features, exposure, small_model, threshold):
    model = dataclasses.replace(small_model, high_risk_probability=threshold)
    levels, combined = _combine(features, exposure, model)
    before = levels["level"].map(RANK).to_numpy()
    after = combined["level"].map(RANK).to_numpy()
    assert (after >= before).all()
    assert (after - before <= 1).all()
    assert combined["hydrological_level"].tolist() == levels["level"].tolist()


def test_reasons_name_top_contributions(features, exposure, small_model):
    _, combined = _combine(features, exposure, small_model)
    pattern = re.compile(r"(\w+)=(?:missing|[-+\d.e]+) \(([-+]\d+\.\d\d)\)")
    at_risk = combined[combined["level"].isin(["WATCH", "WARNING", "EMERGENCY"])]
    assert len(at_risk) == 3
    for row in at_risk.itertuples():
        risk = [r for r in row.reasons if r.startswith("flood risk")]
        assert len(risk) == 1, row.village_id
        assert "risk model cut" in risk[0]
        found = pattern.findall(risk[0])
        assert len(found) == 3, risk[0]
        assert {name for name, _ in found} <= set(FEATURES)


def test_unmonitored_gets_no_risk_reason(features, exposure, small_model):
    _, combined = _combine(features, exposure, small_model)
    reasons = combined.set_index("village_id")["reasons"]["stale"]
    assert not any(r.startswith("flood risk") for r in reasons)


def test_raised_village_says_why(features, exposure, small_model):
    always_high = dataclasses.replace(small_model, high_risk_probability=0.0)
    _, combined = _combine(features, exposure, always_high)
    reasons = combined.set_index("village_id")["reasons"]
    assert any(
        r.startswith("raised from NORMAL by flood risk") for r in reasons["near"]
    )
    assert not any(r.startswith("raised") for r in reasons["warning"])


def test_reasons_keep_cwc_rule_first(features, exposure, small_model):
    levels, combined = _combine(features, exposure, small_model)
    before = levels.set_index("village_id")["reasons"]
    after = combined.set_index("village_id")["reasons"]
    for village in GAUGES:
        assert after[village][: len(before[village])] == before[village]


def test_live_features_without_exposure(features, small_model):
    empty = pd.DataFrame(columns=list(EXPOSURE_COLUMNS))
    risk = live_risk_features(features, empty, now=NOW)
    assert risk["embankment_km"].isna().all()
    assert risk["rain_mm_30d"].isna().all()
    assert (risk["month_of_year"] == 7).all()
    assert np.isfinite(small_model.probability(risk)).all()


def test_level_feature_uses_forecast_peak(features, exposure):
    risk = live_risk_features(features, exposure, now=NOW).set_index("village_id")
    assert risk.loc["warning", "level_above_danger_m"] == pytest.approx(48.9 - 49.68)
    assert np.isnan(risk.loc["stale", "level_above_danger_m"])


def test_combine_rejects_other_villages(features, exposure, small_model):
    levels = decide_levels(features)
    risk = live_risk_features(features, exposure, now=NOW).iloc[::-1]
    with pytest.raises(ValueError, match="different villages"):
        combine_levels(levels, risk, small_model)


def _with_satellite(fraction, age_h, usable):
    """Features of the test villages with one satellite value for all of them."""
    features = _features()
    count = features.sizes["village"]
    return features.assign(
        satellite_flooded_fraction=("village", np.full(count, fraction)),
        satellite_age_h=("village", np.full(count, age_h)),
        satellite_usable=("village", np.full(count, usable)),
    )


def test_flooded_fraction_from_usable_scene(exposure):
    features = _with_satellite(0.3, 5.0, True)
    risk = live_risk_features(features, exposure, now=NOW)
    assert (risk["flooded_fraction"] == 0.3).all()


def test_flooded_fraction_missing_when_unusable(exposure):
    features = _with_satellite(0.3, 100.0, False)
    risk = live_risk_features(features, exposure, now=NOW)
    assert risk["flooded_fraction"].isna().all()


def test_flooded_fraction_missing_without_scene(features, exposure):
    risk = live_risk_features(features, exposure, now=NOW)
    assert risk["flooded_fraction"].isna().all()


def test_flooded_fraction_percent_rejected(exposure):
    features = _with_satellite(25.0, 5.0, True)
    with pytest.raises(ValueError, match=r"satellite_flooded_fraction=25\.0 .*'far'"):
        live_risk_features(features, exposure, now=NOW)
