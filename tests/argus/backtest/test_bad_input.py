"""Bad snapshot folders: empty, corrupt files, unordered files, gaps of days."""

import gzip
import json
import os
import shutil

import pandas as pd
import pytest

from argus.backtest.run import BacktestRequest, run_backtest
from argus.errors import ReplayError
from argus.settings import Settings
from models.baseline import PersistenceTrendForecaster
from tests.argus.backtest import handmade


def _run(folder, out, **options) -> dict:
    request = BacktestRequest(replay_dir=folder, out_dir=out, **options)
    return run_backtest(
        request,
        forecaster=PersistenceTrendForecaster(),
        settings=Settings(home=out / "home"),
    )


@pytest.fixture(scope="module")
def reference_run(handmade_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    return _run(handmade_folder, out), out


def test_missing_folder_raises(tmp_path):
    with pytest.raises(ReplayError, match="does not exist or is not a folder"):
        _run(tmp_path / "nowhere", tmp_path / "out")


def test_empty_folder_scores_nothing(tmp_path):
    (tmp_path / "polls").mkdir()
    metrics = _run(tmp_path / "polls", tmp_path / "out")

    assert metrics["instants"]["scored"] == 0
    assert metrics["instants"]["issue_hours"] == 0
    assert metrics["files"]["snapshots"] == 0
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["instants"]["scored"] == 0
    assert pd.read_csv(tmp_path / "out" / "forecasts.csv").empty
    assert pd.read_csv(tmp_path / "out" / "alerts.csv").empty


def test_corrupt_files_named_and_skipped(handmade_folder, reference_run, tmp_path):
    folder = shutil.copytree(handmade_folder, tmp_path / "polls")
    (folder / "ffs_2026-07-01T0500.json.gz").write_bytes(b"not gzip at all")
    whole = gzip.compress(json.dumps({"series": {}}).encode())
    (folder / "ffs_2026-07-01T0900.json.gz").write_bytes(whole[: len(whole) // 2])
    (folder / "ffs_2026-07-01T1000.json").write_text("{ not json")
    (folder / "notes.txt").write_text("poll log")

    metrics = _run(folder, tmp_path / "out")

    skipped = {entry["file"]: entry["reason"] for entry in metrics["files"]["skipped"]}
    assert "decompressed" in skipped["ffs_2026-07-01T0500.json.gz"]
    assert "decompressed" in skipped["ffs_2026-07-01T0900.json.gz"]
    assert "not JSON" in skipped["ffs_2026-07-01T1000.json"]
    assert "name is not" in skipped["notes.txt"]
    reference, _ = reference_run
    assert metrics["instants"]["scored"] == reference["instants"]["scored"]
    assert metrics["buckets"] == reference["buckets"]


def test_unordered_files_give_same_output(handmade_folder, reference_run, tmp_path):
    folder = tmp_path / "polls"
    folder.mkdir()
    names = sorted(p.name for p in handmade_folder.iterdir())
    # Written newest first, with modification times in the reverse order too.
    for age, name in enumerate(reversed(names)):
        shutil.copyfile(handmade_folder / name, folder / name)
        os.utime(folder / name, (1_700_000_000 + age, 1_700_000_000 + age))

    _run(folder, tmp_path / "out")

    _, reference_out = reference_run
    for name in ("forecasts.csv", "alerts.csv"):
        ours = (tmp_path / "out" / name).read_text()
        assert ours == (reference_out / name).read_text(), name


def test_later_polls_leave_earlier_forecasts(handmade_folder, reference_run, tmp_path):
    folder = tmp_path / "polls"
    folder.mkdir()
    cut_hour = handmade.poll_hours()[3]
    for poll_hour in handmade.poll_hours()[:4]:
        name = handmade.poll_name(poll_hour)
        shutil.copyfile(handmade_folder / name, folder / name)
    shutil.copyfile(handmade_folder / "stations.json", folder / "stations.json")

    _run(folder, tmp_path / "out")

    _, reference_out = reference_run
    short = pd.read_csv(tmp_path / "out" / "forecasts.csv")
    full = pd.read_csv(reference_out / "forecasts.csv")
    full = full[full["issued_at"] <= handmade.hour_time(cut_hour).isoformat()]
    assert len(short) == len(full)
    pd.testing.assert_frame_equal(short, full.reset_index(drop=True))


def test_gap_of_days_reported(handmade_folder, tmp_path):
    folder = shutil.copytree(handmade_folder, tmp_path / "polls")
    last = handmade.poll_hours()[-1]
    resumed = last + 72
    handmade.write_poll(folder, resumed)

    metrics = _run(folder, tmp_path / "out")

    assert metrics["files"]["gaps"] == [
        {
            "from": handmade.hour_time(last).isoformat(),
            "to": handmade.hour_time(resumed).isoformat(),
            "hours": 72.0,
        }
    ]
    instants = metrics["instants"]
    assert instants["issue_hours"] == resumed - handmade.poll_hours()[0] + 1
    # The forecaster needs a reading in the 48 h before the issue hour. So the
    # hours from 48 h after the last reading before the gap get no forecast.
    assert instants["without_forecast"] == resumed - (last + 48)
    assert instants["first_without_forecast"][0] == (
        handmade.hour_time(last + 48).isoformat()
    )
