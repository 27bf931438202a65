"""`argus train risk` and `argus villages exposure` on the command line."""

import pytest
from typer.testing import CliRunner

from argus.cli import app


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
