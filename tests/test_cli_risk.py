"""`argus train risk` and `argus villages exposure` on the command line, and
the risk model in a replayed cycle with and without a satellite scene."""

import json
import re

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from argus.cli import app
from argus.settings import load_settings
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import VillageState

AT = "2026-08-01T12:00+05:30"
LAYER = "bhuvan_inundation_as_2023_07_07_18.tif"
# A flooded fraction written as a number (not "missing") in a risk reason.
KNOWN_FRACTION = re.compile(r"flooded_fraction=([-+\d.e]+) \(")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def imported(argus_env, runner, village_cut):
    result = runner.invoke(app, ["villages", "import", str(village_cut[0])])
    assert result.exit_code == 0, result.output
    return village_cut[1]


def test_exposure_stores_every_village(imported, runner, shared_data):
    result = runner.invoke(app, ["villages", "exposure", "--data", str(shared_data)])
    assert result.exit_code == 0, result.output
    assert f"stored the exposure of {len(imported)} villages" in result.stdout


def test_exposure_without_villages(argus_env, runner, shared_data):
    result = runner.invoke(app, ["villages", "exposure", "--data", str(shared_data)])
    assert result.exit_code == 2
    assert "no villages are stored" in result.stderr


def test_exposure_data_folder_missing_file(imported, runner, tmp_path):
    (tmp_path / "geo").mkdir()
    result = runner.invoke(app, ["villages", "exposure", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "assam_revenue_circles.geojson" in result.stderr
    assert "not found" in result.stderr


def test_train_risk_data_folder_not_found(runner, tmp_path):
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["train", "risk", "--data", str(missing)])
    assert result.exit_code == 2
    assert f"--data folder {str(missing)!r} not found" in result.stderr


@pytest.fixture
def satellite_dir(tmp_path, shared_data, monkeypatch):
    """A folder with one real Bhuvan scene acquired 6 h before the cycle."""
    folder = tmp_path / "satellite"
    folder.mkdir()
    (folder / "flood.tif").symlink_to(shared_data / "satellite" / LAYER)
    declared = {
        "variable": "flooded_percent",
        "unit": "percent",
        "acquired_at": "2026-08-01T06:00+05:30",
    }
    (folder / "flood.json").write_text(json.dumps(declared))
    monkeypatch.setenv("ARGUS_SATELLITE_DIR", str(folder))
    return folder


def _replay_risk_reasons(runner, shared_data) -> list[str]:
    """Run one replayed cycle and return the stored risk reasons."""
    exposure = runner.invoke(app, ["villages", "exposure", "--data", str(shared_data)])
    assert exposure.exit_code == 0, exposure.output
    snapshots = str(shared_data / "cwc_ffs" / "snapshots")
    cycle = runner.invoke(app, ["run", "--replay", snapshots, "--at", AT])
    assert cycle.exit_code == 0, cycle.output
    engine = engine_for(load_settings().resolved_database_url)
    with session_scope(engine) as session:
        states = session.exec(select(VillageState)).all()
    reasons = [reason for state in states for reason in json.loads(state.reasons)]
    return [reason for reason in reasons if reason.startswith("flood risk")]


@pytest.mark.usefixtures("prefect_harness")
def test_replay_with_scene_names_fraction(imported, runner, satellite_dir, shared_data):
    reasons = _replay_risk_reasons(runner, shared_data)

    assert reasons
    fractions = [float(v) for r in reasons for v in KNOWN_FRACTION.findall(r)]
    assert fractions, reasons
    assert all(0 <= value <= 1 for value in fractions)
    assert max(fractions) > 0


@pytest.mark.usefixtures("prefect_harness")
def test_replay_without_scene_fraction_missing(imported, runner, shared_data):
    reasons = _replay_risk_reasons(runner, shared_data)

    assert reasons
    assert not [r for r in reasons if KNOWN_FRACTION.search(r)]
