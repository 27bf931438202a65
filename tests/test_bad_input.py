"""Bad input fails in one clear line and keeps what was good."""

import gzip
import json
import shutil

import pytest
from typer.testing import CliRunner

from argus.cli import app
from argus.sources.cwc_payload import parse_ffs_time, parse_latest_levels
from argus.sources.replay import ReplaySource

GOOD = "ffs_2026-08-01T0600.json.gz"


def test_huge_level_is_not_a_number():
    rows = [
        {
            "stationCode": "002-LBDJPG",
            "latestDataTime": "2026-08-01T05:00:00",
            "latestDataValue": 10**400,
            "datatypeCode": "HHS",
        }
    ]

    frame = parse_latest_levels(rows, source="test")

    assert frame["level_m"].isna().all()


def test_year_one_time_is_unreadable():
    assert parse_ffs_time("0001-01-01T00:00:00") is None


def test_replay_skips_file_with_impossible_name(shared_data, tmp_path):
    snapshots = tmp_path / "snaps"
    snapshots.mkdir()
    shutil.copy(shared_data / "cwc_ffs" / "snapshots" / GOOD, snapshots / GOOD)
    (snapshots / "ffs_2026-13-45T9999.json.gz").write_bytes(
        gzip.compress(json.dumps({}).encode())
    )
    replay = ReplaySource(snapshots, stations_file=None)

    visible = replay.visible_files(replay.latest_time())

    assert [path.name for path in visible] == [GOOD]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "9999-12-31T23:59+00:00"], "is outside the years"),
        (["--at", "2099-01-01T00:00+00:00"], "is in the future"),
        (
            ["--at", "2026-08-01T12:00+05:30", "--stations", "/nonexistent.json"],
            "--stations file",
        ),
    ],
)
def test_replay_rejects_bad_options(argus_env, shared_data, args, message):
    snapshots = shared_data / "cwc_ffs" / "snapshots"

    result = CliRunner().invoke(app, ["run", "--replay", str(snapshots), *args])

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_database_scheme_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("ARGUS_DATABASE_URL", "foo://x/y")

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert "cannot be used" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_home_under_a_file_is_one_line(monkeypatch, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.delenv("ARGUS_DATABASE_URL", raising=False)
    monkeypatch.setenv("ARGUS_HOME", str(blocker / "home"))

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert "ARGUS_HOME" in result.stderr


@pytest.mark.parametrize(
    ("value", "cause"),
    [("abc", "valid number"), ("0", "greater than 0")],
)
def test_invalid_setting_names_variable(monkeypatch, value, cause):
    monkeypatch.setenv("ARGUS_SERIES_BACKFILL_H", value)

    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert f"ARGUS_SERIES_BACKFILL_H={value!r}" in result.stderr
    assert cause in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_replay_long_after_snapshots_warns(argus_env, shared_data, tmp_path):
    snapshots = tmp_path / "snaps"
    snapshots.mkdir()
    shutil.copy(shared_data / "cwc_ffs" / "snapshots" / GOOD, snapshots / GOOD)
    stations = shared_data / "cwc_ffs" / "stations_assam.json"
    args = ["run", "--replay", str(snapshots), "--stations", str(stations)]

    late = CliRunner().invoke(app, [*args, "--at", "2026-08-01T12:01+05:30"])
    soon = CliRunner().invoke(app, [*args, "--at", "2026-08-01T11:59+05:30"])

    assert late.exit_code == 0
    assert "is 6 h after the newest snapshot" in late.stderr
    assert "check --at" in late.stderr
    assert soon.exit_code == 0
    assert "after the newest snapshot" not in soon.stderr


def test_broken_level_model_opens_no_cycle(argus_env, shared_data, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text('{"kind": ')
    snapshots = shared_data / "cwc_ffs" / "snapshots"
    args = ["run", "--replay", str(snapshots), "--at", "2026-08-01T12:00+05:30"]

    with pytest.MonkeyPatch.context() as env:
        env.setenv("ARGUS_LEVEL_MODEL_DIR", str(model_dir))
        result = CliRunner().invoke(app, args)
    status = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 2
    assert "model.json' cannot be read" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert status.exit_code == 1
    assert "no cycle" in status.stderr
