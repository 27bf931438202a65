"""Fallback levels: which source decides, trust weighting, never silent NORMAL."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from argus.features import SOURCE_DEFAULTS
from models.fallback_levels import (
    apply_fallback,
    citizen_severity,
    satellite_severity,
)
from models.village_levels import INPUTS, decide_levels

NAN = np.nan
GAUGE_OK = {
    "usable": True,
    "level_m": 47.0,
    "age_h": 1.0,
    "warning_level_m": 48.68,
    "danger_level_m": 49.68,
    "highest_flood_level_m": 51.46,
    "p50_reaches_hfl_h": NAN,
    "p50_reaches_danger_h": NAN,
    "p90_reaches_warning_h": NAN,
    "gauge_trust": 0.8,
}
GAUGE_DOWN = GAUGE_OK | {"usable": False, "level_m": NAN, "age_h": NAN}
SATELLITE_FRESH = {
    "satellite_usable": True,
    "satellite_age_h": 10.0,
    "satellite_trust": 0.7,
}


def _levels(villages: dict[str, dict]) -> pd.DataFrame:
    rows = pd.DataFrame([SOURCE_DEFAULTS | row for row in villages.values()])
    names = list(INPUTS) + list(SOURCE_DEFAULTS)
    data = {name: ("village", rows[name].to_numpy()) for name in names}
    coords = {
        "village": list(villages),
        "station_code": ("village", np.array(["001-MBDGHY"] * len(rows), object)),
    }
    features = xr.Dataset(data, coords=coords, attrs={"max_age_h": 6.0})
    return apply_fallback(decide_levels(features), features).set_index("village_id")


def test_gauge_decides_when_usable_and_trusted():
    levels = _levels(
        {"v": GAUGE_OK | SATELLITE_FRESH | {"satellite_flooded_fraction": 0.5}}
    )

    assert levels.loc["v", "level"] == "NORMAL"
    assert levels.loc["v", "source"] == "gauge"
    assert not levels.loc["v", "degraded"]


def test_satellite_decides_when_gauge_is_down():
    levels = _levels(
        {"v": GAUGE_DOWN | SATELLITE_FRESH | {"satellite_flooded_fraction": 0.12}}
    )

    assert levels.loc["v", "level"] == "WARNING"
    assert levels.loc["v", "source"] == "satellite"
    assert levels.loc["v", "degraded"]
    assert levels.loc["v", "monitored"]
    expected = (
        "degraded: reference gauge not usable; level from satellite: 12.0% "
        "flooded nearby, scene 10 h old, trust 0.70"
    )
    assert levels.loc["v", "reasons"] == (expected,)


def test_dry_satellite_is_degraded_normal():
    levels = _levels(
        {"v": GAUGE_DOWN | SATELLITE_FRESH | {"satellite_flooded_fraction": 0.0}}
    )

    assert levels.loc["v", "level"] == "NORMAL"
    assert levels.loc["v", "degraded"]


def test_stale_satellite_leaves_village_unmonitored():
    stale = SATELLITE_FRESH | {"satellite_usable": False, "satellite_age_h": 100.0}
    levels = _levels({"v": GAUGE_DOWN | stale | {"satellite_flooded_fraction": 0.3}})

    assert levels.loc["v", "level"] == "UNMONITORED"
    assert levels.loc["v", "source"] is None
    assert not levels.loc["v", "degraded"]
    assert levels.loc["v", "degraded_reason"] == "reference gauge not usable"
    assert "no usable, trusted fallback source" in levels.loc["v", "reasons"][0]


def test_untrusted_gauge_falls_back():
    untrusted = GAUGE_OK | {"gauge_trust": 0.1, "level_m": 50.0}
    levels = _levels({"v": untrusted})

    assert levels.loc["v", "level"] == "UNMONITORED"
    assert levels.loc["v", "degraded_reason"] == "reference gauge trust 0.10 < 0.3"


def test_operator_forced_fallback():
    forced = GAUGE_OK | SATELLITE_FRESH | {"fallback_forced": True}
    levels = _levels({"v": forced | {"satellite_flooded_fraction": 0.25}})

    assert levels.loc["v", "level"] == "EMERGENCY"
    assert levels.loc["v", "degraded_reason"] == "fallback forced by operator"


def test_one_new_reporter_is_not_enough():
    one = {"citizen_severity": 2.0, "citizen_reporters": 1.0, "citizen_trust": 0.2}
    two = {"citizen_severity": 2.0, "citizen_reporters": 2.0, "citizen_trust": 0.36}
    levels = _levels({"one": GAUGE_DOWN | one, "two": GAUGE_DOWN | two})

    assert levels.loc["one", "level"] == "UNMONITORED"
    assert levels.loc["two", "level"] == "WARNING"
    assert levels.loc["two", "source"] == "citizen"


@pytest.mark.parametrize(
    ("citizen_trust", "level", "source"),
    [(0.36, "NORMAL", "satellite"), (0.9, "EMERGENCY", "citizen")],
)
def test_sources_weighted_by_trust(citizen_trust, level, source):
    citizens = {
        "citizen_severity": 3.0,
        "citizen_reporters": 3.0,
        "citizen_trust": citizen_trust,
    }
    village = GAUGE_DOWN | SATELLITE_FRESH | citizens
    levels = _levels({"v": village | {"satellite_flooded_fraction": 0.0}})

    assert levels.loc["v", "level"] == level
    assert levels.loc["v", "source"] == source


def test_satellite_severity_thresholds():
    severity = satellite_severity(np.array([0.0, 0.01, 0.05, 0.2, NAN]))

    np.testing.assert_array_equal(severity, [0, 1, 2, 3, NAN])


def test_citizen_severity_depth_then_flag():
    severity = citizen_severity(
        np.array([0.0, 0.1, 0.3, 1.2, NAN, NAN]),
        np.array([None, None, None, None, "flooded", "dry"], dtype=object),
    )

    np.testing.assert_array_equal(severity, [0, 1, 2, 3, 2, 0])
