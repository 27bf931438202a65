"""`argus train regression` backtests the regression and writes its card."""

import json
import shutil

from typer.testing import CliRunner

from argus.cli import app


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
