"""The `argus camera` commands and cameras in `argus run`."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from argus.cli import app
from tests.conftest import REPO_ROOT

CALIBRATION = REPO_ROOT / "deployments" / "cameras" / "north-river-marsh.json"
AT = "2026-08-01T12:00+05:30"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def gaugecam(shared_data):
    return shared_data / "gaugecam"


def _eval(runner, gaugecam, *extra, calibration=CALIBRATION, truth=None):
    truth = truth or gaugecam / "ground_truth.csv"
    arguments = ["camera", "eval", "--images", str(gaugecam / "images")]
    arguments += ["--truth", str(truth), "--calibration", str(calibration)]
    return runner.invoke(app, [*arguments, *extra])


def test_camera_eval_prints_scores(runner, gaugecam):
    result = _eval(runner, gaugecam, "--every", "8", "--offset", "1")

    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["frames"] == 4
    assert scores["read"] == 4
    assert scores["read_fraction"] == 1.0
    assert scores["mae_cm"] == pytest.approx(0.469, abs=0.001)


def test_camera_eval_missing_calibration_exits_2(runner, gaugecam, tmp_path):
    result = _eval(runner, gaugecam, calibration=tmp_path / "none.json")

    assert result.exit_code == 2
    assert "none.json' not found" in result.stderr


def test_camera_eval_bad_truth_names_line(runner, gaugecam, tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("image,gaugecam_height_cm\nNRmarshDN-12-05-31-18-00.jpg,high\n")

    result = _eval(runner, gaugecam, truth=truth)

    assert result.exit_code == 2
    assert "truth.csv' line 2: gaugecam_height_cm 'high' is not a number" in (
        result.stderr
    )


def test_camera_calibrate_writes_file(runner, gaugecam, tmp_path):
    output = tmp_path / "camera.json"
    frame = gaugecam / "images" / "NRmarshDN-12-06-30-10-45.jpg"

    result = runner.invoke(
        app,
        ["camera", "calibrate", str(frame), "--camera-id", "c1"]
        + ["--station-code", "CAM-1", "--top-long-mark-cm", "100"]
        + ["--corners", "289,207;314,207;319,560;294,560", "--output", str(output)],
    )

    assert result.exit_code == 0, result.output
    assert "44 marks" in result.stdout
    assert json.loads(output.read_text())["camera_id"] == "c1"


def test_camera_calibrate_bad_corners_exits_2(runner, gaugecam, tmp_path):
    frame = gaugecam / "images" / "NRmarshDN-12-06-30-10-45.jpg"

    result = runner.invoke(
        app,
        ["camera", "calibrate", str(frame), "--camera-id", "c1"]
        + ["--station-code", "CAM-1", "--top-long-mark-cm", "100"]
        + ["--corners", "289,207;314,207", "--output", str(tmp_path / "c.json")],
    )

    assert result.exit_code == 2
    assert "--corners '289,207;314,207' is invalid" in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_replay_with_cameras_counts_readings(
    runner, argus_env, shared_data, gaugecam, tmp_path, monkeypatch
):
    if argus_env.startswith("postgresql"):
        # Camera storage runs on both databases in tests/argus/test_cameras.py;
        # a second full replay cycle here would add half a minute for nothing.
        pytest.skip("one replay cycle with cameras is enough")
    calibrations = tmp_path / "calibrations"
    calibrations.mkdir()
    raw = json.loads(CALIBRATION.read_text())
    raw.update(frame_name_format=None, frame_timezone="UTC")
    (calibrations / "north-river-marsh.json").write_text(json.dumps(raw))
    frames = tmp_path / "frames" / "north-river-marsh"
    frames.mkdir(parents=True)
    # 06:00 and 06:20 UTC are before the cycle; 07:00 is after it.
    for stamp, name in [
        ("20260801T060000Z", "NRmarshDN-12-06-30-07-30.jpg"),
        ("20260801T062000Z", "NRmarshDN-12-06-30-08-15.jpg"),
        ("20260801T070000Z", "NRmarshDN-12-06-30-09-15.jpg"),
    ]:
        shutil.copy(gaugecam / "images" / name, frames / f"{stamp}.jpg")
    (frames / "20260801T061000Z.jpg").write_bytes(b"")
    monkeypatch.setenv("ARGUS_CAMERA_DIR", str(tmp_path / "frames"))
    monkeypatch.setenv("ARGUS_CAMERA_CALIBRATION_DIR", str(calibrations))
    snapshots = shared_data / "cwc_ffs" / "snapshots"

    result = runner.invoke(
        app, ["run", "--replay", str(snapshots), "--at", AT, "--json"]
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["camera_readings"] == 2
    assert summary["camera_refused"] == {"bad input": 1}
    assert any(
        "20260801T061000Z.jpg' is an empty file" in failure
        for failure in summary["source_failures"]
    )
    assert "cameras" in summary["stage_seconds"]
