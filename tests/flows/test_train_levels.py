"""`argus train levels` runs the training flow and writes an artifact and card."""

import json

from typer.testing import CliRunner

from argus.cli import app


def test_train_levels_command(prefect_harness, shared_data, tmp_path):
    out = tmp_path / "levels"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "levels",
            "--replay",
            str(shared_data / "cwc_ffs" / "snapshots"),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--max-snapshots",
            "8",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    card = json.loads(
        (out / summary["folder"].split("/")[-1] / "card.json").read_text()
    )
    assert card["promoted"] is summary["promoted"]
    assert card["data"]["quarantined_by_rule"] is not None
    assert (out / summary["folder"].split("/")[-1] / "weights.pt").is_file()


def test_train_levels_missing_replay_folder(tmp_path):
    result = CliRunner().invoke(
        app, ["train", "levels", "--replay", str(tmp_path / "absent")]
    )

    assert result.exit_code == 2
    assert "replay folder" in result.stderr
    assert "not found" in result.stderr
