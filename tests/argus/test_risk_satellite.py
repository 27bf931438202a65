"""The risk model in a cycle with a real Bhuvan scene: flooded fraction fed live.

The steps are those of :func:`argus.assess.assess_villages` from the stored
scene on: village sources from the database, features, CWC levels, then
:func:`argus.risk.apply_risk` with the committed risk model. The gauges are
hand-made so that both villages are near their warning level.
"""

import json
import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from argus.features import build_features
from argus.risk import apply_risk, compute_exposure
from argus.satellite import ingest_scenes
from argus.settings import Settings
from argus.storage.db import session_scope
from argus.storage.exposure import load_exposure
from argus.storage.villages import upsert_villages
from argus.village_sources import village_sources
from models.risk_levels import live_risk_features
from models.village_levels import decide_levels

LAYER = "bhuvan_inundation_as_2023_07_07_18.tif"
ACQUIRED_AT = "2026-08-01T06:00+05:30"
CYCLE_AT = datetime.fromisoformat("2026-08-01T12:00+05:30")
# Past the default scene age limit of 72 h.
STALE_CYCLE_AT = CYCLE_AT + timedelta(hours=80)
# Rajgarh Chariali, the wettest place of the 2023 layer, and Barpeta town.
VILLAGE_IDS = ["node/12144941896", "node/245746325"]
# Guwahati D.C. Court thresholds: warning 48.68, danger 49.68, HFL 51.46 m.
GAUGE = {"warning": 48.68, "danger": 49.68, "hfl": 51.46, "level": 48.9}
REASON_VALUE = re.compile(r"flooded_fraction=([-+\d.e]+|missing) \(([-+]\d+\.\d\d)\)")


@pytest.fixture
def villages(engine, shared_data):
    """The two places stored as villages, with their exposure."""
    places = json.loads((shared_data / "geo" / "assam_osm_places.json").read_text())
    by_id = {p["osm_id"]: p for p in places["places"]}
    frame = pd.DataFrame(
        {
            "village_id": VILLAGE_IDS,
            "name": [by_id[v]["place_name"] for v in VILLAGE_IDS],
            "lon": [by_id[v]["centre"][0] for v in VILLAGE_IDS],
            "lat": [by_id[v]["centre"][1] for v in VILLAGE_IDS],
            "district": [by_id[v].get("district") for v in VILLAGE_IDS],
            "revenue_circle": [by_id[v].get("revenue_circle") for v in VILLAGE_IDS],
            "place_kind": [by_id[v]["place_kind"] for v in VILLAGE_IDS],
        }
    )
    with session_scope(engine) as session:
        upsert_villages(session, frame, source="test")
    assert compute_exposure(engine, shared_data) == len(VILLAGE_IDS)
    return frame


@pytest.fixture
def scene_folder(tmp_path, shared_data):
    folder = tmp_path / "satellite"
    folder.mkdir()
    (folder / "flood.tif").symlink_to(shared_data / "satellite" / LAYER)
    declared = {
        "variable": "flooded_percent",
        "unit": "percent",
        "acquired_at": ACQUIRED_AT,
    }
    (folder / "flood.json").write_text(json.dumps(declared))
    return folder


def _cycle(engine, settings, *, cycle_at):
    """Run the cycle's steps from the village sources to the risk model."""
    villages_ref = pd.DataFrame(
        {"village_id": VILLAGE_IDS, "station_code": ["G-1"] * len(VILLAGE_IDS)}
    )
    gauges = pd.DataFrame(
        {
            "station_code": ["G-1"],
            "level_m": [GAUGE["level"]],
            "observed_at": [cycle_at - timedelta(hours=1)],
            "rate_m_per_h": [0.0],
            "warning_level_m": [GAUGE["warning"]],
            "danger_level_m": [GAUGE["danger"]],
            "highest_flood_level_m": [GAUGE["hfl"]],
        }
    )
    forecasts = pd.DataFrame(
        {
            "station_code": ["G-1", "G-1"],
            "lead_time_h": [1.0, 6.0],
            "p10_m": GAUGE["level"],
            "p50_m": GAUGE["level"],
            "p90_m": GAUGE["level"],
        }
    )
    with session_scope(engine) as session:
        sources = village_sources(
            session, villages_ref, cycle_at=cycle_at, settings=settings
        )
        exposure = load_exposure(session)
    features = build_features(
        villages_ref, gauges, forecasts, now=cycle_at, village_sources=sources
    )
    risk = live_risk_features(features, exposure, now=cycle_at)
    levels = apply_risk(
        engine, decide_levels(features), features, cycle_at=cycle_at, settings=settings
    )
    return risk.set_index("village_id"), levels.set_index("village_id")


def _risk_reason(reasons) -> str:
    found = [r for r in reasons if r.startswith("flood risk")]
    assert len(found) == 1, reasons
    return found[0]


def test_fresh_scene_fills_flooded_fraction(engine, villages, scene_folder, tmp_path):
    settings = Settings(satellite_dir=scene_folder, home=tmp_path / "home")
    report = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    risk, _ = _cycle(engine, settings, cycle_at=CYCLE_AT)

    assert report.scenes_ingested == 1
    fraction = risk["flooded_fraction"]
    assert fraction["node/12144941896"] == pytest.approx(0.2514, abs=1e-4)
    assert fraction["node/245746325"] == pytest.approx(0.00208, abs=1e-5)
    assert risk["rain_mm_30d"].isna().all()


def test_fresh_scene_named_in_reasons(engine, villages, scene_folder, tmp_path):
    settings = Settings(satellite_dir=scene_folder, home=tmp_path / "home")
    ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    _, levels = _cycle(engine, settings, cycle_at=CYCLE_AT)

    reason = _risk_reason(levels.loc["node/12144941896", "reasons"])
    assert "risk model v1" in reason
    named = REASON_VALUE.findall(reason)
    assert len(named) == 1, reason
    value, contribution = named[0]
    assert float(value) == pytest.approx(0.251, abs=1e-3)
    assert float(contribution) != 0


def test_fresh_scene_changes_risk(engine, villages, scene_folder, tmp_path):
    no_scene = Settings(home=tmp_path / "home")
    _, without = _cycle(engine, no_scene, cycle_at=CYCLE_AT)
    settings = Settings(satellite_dir=scene_folder, home=tmp_path / "home")
    ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    _, with_scene = _cycle(engine, settings, cycle_at=CYCLE_AT)

    # A quarter of the 2 km circle flooded raises the risk there.
    village = "node/12144941896"
    assert (
        with_scene.loc[village, "risk_probability"]
        > without.loc[village, "risk_probability"]
    )


def test_no_scene_leaves_fraction_missing(engine, villages, tmp_path):
    settings = Settings(home=tmp_path / "home")

    risk, levels = _cycle(engine, settings, cycle_at=CYCLE_AT)

    assert risk["flooded_fraction"].isna().all()
    for village in VILLAGE_IDS:
        reason = _risk_reason(levels.loc[village, "reasons"])
        assert not re.search(r"flooded_fraction=[-+\d.e]+ ", reason), reason


def test_stale_scene_leaves_fraction_missing(engine, villages, scene_folder, tmp_path):
    settings = Settings(satellite_dir=scene_folder, home=tmp_path / "home")
    ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    risk, _ = _cycle(engine, settings, cycle_at=STALE_CYCLE_AT)

    assert settings.satellite_max_age_h < 80
    assert risk["flooded_fraction"].isna().all()


def test_scene_age_limit_setting_decides(engine, villages, scene_folder, tmp_path):
    settings = Settings(
        satellite_dir=scene_folder, home=tmp_path / "home", satellite_max_age_h=100
    )
    ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    risk, _ = _cycle(engine, settings, cycle_at=STALE_CYCLE_AT)

    assert np.isfinite(risk.loc["node/12144941896", "flooded_fraction"])
