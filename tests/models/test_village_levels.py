"""Village level rules: order, reasons, NaN thresholds, unmonitored villages."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import xarray as xr

from argus.features import build_features
from models.village_levels import INPUTS, decide_levels

NAN = np.nan
# Guwahati D.C. Court (001-MBDGHY): warning 48.68, danger 49.68, HFL 51.46 m.
GUWAHATI = {
    "warning_level_m": 48.68,
    "danger_level_m": 49.68,
    "highest_flood_level_m": 51.46,
}
QUIET = {
    "usable": True,
    "level_m": 47.0,
    "age_h": 1.0,
    "p50_reaches_hfl_h": NAN,
    "p50_reaches_danger_h": NAN,
    "p90_reaches_warning_h": NAN,
} | GUWAHATI


def _features(villages: dict[str, dict]) -> xr.Dataset:
    rows = pd.DataFrame([QUIET | row for row in villages.values()])
    rows["station_code"] = [
        row.get("station_code", "001-MBDGHY") for row in villages.values()
    ]
    data = {name: ("village", rows[name].to_numpy()) for name in INPUTS}
    coords = {
        "village": list(villages),
        "station_code": ("village", rows["station_code"].to_numpy(object)),
    }
    return xr.Dataset(data, coords=coords, attrs={"max_age_h": 6.0})


def _decide(villages: dict[str, dict]) -> pd.DataFrame:
    return decide_levels(_features(villages)).set_index("village_id")


def test_reading_at_danger_level_is_emergency() -> None:
    levels = _decide({"v": {"level_m": 50.1}})

    assert levels.loc["v", "level"] == "EMERGENCY"
    assert levels.loc["v", "reasons"] == (
        "reading 50.1 m >= danger level 49.68 m at 001-MBDGHY",
        "reading 50.1 m >= warning level 48.68 m at 001-MBDGHY",
    )


def test_p50_reaching_hfl_is_emergency_before_warning_rules() -> None:
    levels = _decide(
        {"v": {"level_m": 48.9, "p50_reaches_danger_h": 3.0, "p50_reaches_hfl_h": 7.0}}
    )

    assert levels.loc["v", "level"] == "EMERGENCY"
    assert levels.loc["v", "reasons"] == (
        "p50 forecast reaches highest flood level 51.46 m in 7 h",
        "reading 48.9 m >= warning level 48.68 m at 001-MBDGHY",
        "p50 forecast reaches danger level 49.68 m in 3 h",
    )


def test_warning_rules() -> None:
    levels = _decide(
        {"at": {"level_m": 48.68}, "rising": {"p50_reaches_danger_h": 5.0}}
    )

    assert levels["level"].tolist() == ["WARNING", "WARNING"]
    assert levels.loc["at", "reasons"] == (
        "reading 48.68 m >= warning level 48.68 m at 001-MBDGHY",
    )
    assert levels.loc["rising", "reasons"] == (
        "p50 forecast reaches danger level 49.68 m in 5 h",
    )


def test_p90_reaching_warning_is_watch() -> None:
    levels = _decide({"v": {"p90_reaches_warning_h": 3.0}, "calm": {}})

    assert levels["level"].tolist() == ["WATCH", "NORMAL"]
    assert levels.loc["v", "reasons"] == (
        "p90 forecast reaches warning level 48.68 m in 3 h",
    )
    assert levels.loc["calm", "reasons"] == ()
    assert levels["monitored"].all()


def test_nan_thresholds_are_not_used() -> None:
    # Pandu (025-MBDGHY) has only a highest flood level, 49.88 m.
    pandu = {
        "station_code": "025-MBDGHY",
        "warning_level_m": NAN,
        "danger_level_m": NAN,
    }
    pandu |= {"highest_flood_level_m": 49.88, "level_m": 60.0}
    levels = _decide({"high": pandu, "rising": pandu | {"p50_reaches_hfl_h": 12.0}})

    assert levels["level"].tolist() == ["NORMAL", "EMERGENCY"]
    assert levels.loc["rising", "reasons"] == (
        "p50 forecast reaches highest flood level 49.88 m in 12 h",
    )


def test_villages_without_a_usable_gauge_are_unmonitored() -> None:
    levels = _decide(
        {
            "none": {
                "usable": False,
                "station_code": None,
                "level_m": NAN,
                "age_h": NAN,
            },
            "stale": {"usable": False, "age_h": 7.5, "level_m": 50.1},
            "silent": {"usable": False, "level_m": NAN, "age_h": NAN},
        }
    )

    assert levels["level"].tolist() == ["UNMONITORED"] * 3
    assert not levels["monitored"].any()
    assert levels["reasons"].tolist() == [
        ("no reference gauge with a danger level nearby",),
        ("latest reading at 001-MBDGHY is 7.5 h old (limit 6 h)",),
        ("no accepted reading from 001-MBDGHY",),
    ]
    assert levels.loc["none", "station_code"] is None


def test_levels_share_reasons_per_gauge() -> None:
    now = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
    gauges = pd.DataFrame(
        {
            "station_code": ["001-MBDGHY"],
            "level_m": [50.1],
            "observed_at": [now - timedelta(hours=2)],
            "rate_m_per_h": [0.05],
        }
        | {key: [value] for key, value in GUWAHATI.items()}
    )
    forecasts = pd.DataFrame(
        {
            "station_code": "001-MBDGHY",
            "lead_time_h": [1, 2],
            "p10_m": 50.0,
            "p50_m": [50.5, 51.5],
            "p90_m": 52.0,
        }
    )
    villages = pd.DataFrame(
        {
            "village_id": ["a", "b", "c"],
            "station_code": ["001-MBDGHY", "001-MBDGHY", None],
        }
    )

    levels = decide_levels(
        build_features(villages, gauges, forecasts, now=now, chunk_villages=2)
    )

    assert levels["level"].tolist() == ["EMERGENCY", "EMERGENCY", "UNMONITORED"]
    assert levels.loc[0, "reasons"] == levels.loc[1, "reasons"]
    assert (
        levels.loc[0, "reasons"][1]
        == "p50 forecast reaches highest flood level 51.46 m in 2 h"
    )
    assert levels["station_code"].tolist() == ["001-MBDGHY", "001-MBDGHY", None]
