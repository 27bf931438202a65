"""`argus train regression` backtests the regression and writes its card."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from argus.cli import app
from models.serving import ARTIFACT_ROOT


def test_train_regression_command(prefect_harness, shared_data, tmp_path):
    snapshots = sorted((shared_data / "cwc_ffs" / "snapshots").glob("ffs_*.json.gz"))
    cut = tmp_path / "cut"
    cut.mkdir()
    for path in snapshots[:6]:
        shutil.copyfile(path, cut / path.name)
    out = tmp_path / "levels"

    result = CliRunner().invoke(
        app,
        [
            "train",
            "regression",
            "--replay",
            str(cut),
            "--stations",
            str(shared_data / "cwc_ffs" / "stations_assam.json"),
            "--out",
            str(out),
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    folder = out / summary["folder"].split("/")[-1]
    card = json.loads((folder / "card.json").read_text())
    model = json.loads((folder / "model.json").read_text())
    assert card["promoted"] is summary["promoted"]
    assert card["promoted"] is not any(card["failures"].values())
    assert model["kind"] == "upstream_regression"
    assert set(card["sets"]) == {"held_out_time", "held_out_stations"}
    assert "Verdict" in (folder / "card.md").read_text()


def test_train_regression_missing_replay_folder(tmp_path):
    result = CliRunner().invoke(
        app, ["train", "regression", "--replay", str(tmp_path / "absent")]
    )

    assert result.exit_code == 2
    assert "replay folder" in result.stderr
    assert "not found" in result.stderr


def test_train_regression_empty_replay_folder(tmp_path):
    result = CliRunner().invoke(
        app, ["train", "regression", "--replay", str(tmp_path), "--out", str(tmp_path)]
    )

    assert result.exit_code == 2
    assert f"replay folder '{tmp_path}' contains no ffs_" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["train", "regression"], ["backtest"]])
def test_out_that_is_a_file_rejected(shared_data, tmp_path, command):
    snapshots = tmp_path / "snaps"
    snapshots.mkdir()
    name = "ffs_2026-08-01T0600.json.gz"
    shutil.copy(shared_data / "cwc_ffs" / "snapshots" / name, snapshots / name)
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")

    result = CliRunner().invoke(
        app, [*command, "--replay", str(snapshots), "--out", str(blocker)]
    )

    assert result.exit_code == 2
    assert f"--out '{blocker}' exists and is not a folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert blocker.read_text() == "keep me"


def test_card_from_other_data_kept(prefect_harness, shared_data, tmp_path):
    committed = ARTIFACT_ROOT / "20260808-ff6d52da"
    out = tmp_path / "levels"
    shutil.copytree(committed, out / committed.name)
    card_before = (out / committed.name / "card.json").read_text()
    # The last two polls end on the same day as the committed artifact's data.
    snapshots = sorted((shared_data / "cwc_ffs" / "snapshots").glob("ffs_*.json.gz"))
    cut = tmp_path / "cut"
    cut.mkdir()
    for path in snapshots[-2:]:
        shutil.copyfile(path, cut / path.name)

    result = CliRunner().invoke(
        app, ["train", "regression", "--replay", str(cut), "--out", str(out)]
    )

    assert result.exit_code == 2
    assert "already has a card from 128 snapshot times" in result.stderr
    assert "pass another --out" in result.stderr
    assert (out / committed.name / "card.json").read_text() == card_before
