"""The `argus` command line on the recorded snapshots, end to end."""

import csv
import json
import socket

import pytest
from typer.testing import CliRunner

from argus.cli import app

AT = "2026-08-01T12:00+05:30"
LEVELS = ("NORMAL", "WATCH", "WARNING", "EMERGENCY")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def snapshots(shared_data):
    return shared_data / "cwc_ffs" / "snapshots"


@pytest.fixture
def loaded(argus_env, runner, village_cut, tmp_path):
    """A cut of the OpenStreetMap villages and two subscribers, one consenting."""
    villages_csv, village_ids = village_cut
    imported = runner.invoke(app, ["villages", "import", str(villages_csv)])
    assert imported.exit_code == 0, imported.output
    assert f"stored {len(village_ids)} villages" in imported.stdout

    path = tmp_path / "subscribers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["phone", "name", "language", "channels", "village_ids", "role", "consent"]
        )
        writer.writerow(
            [
                "+919800000001",
                "Volunteer",
                "as",
                "sms",
                ";".join(village_ids),
                "volunteer",
                "yes",
            ]
        )
        writer.writerow(
            [
                "+919800000002",
                "No consent",
                "en",
                "sms",
                ";".join(village_ids),
                "resident",
                "no",
            ]
        )
    subscribed = runner.invoke(app, ["subscribers", "import", str(path)])
    assert subscribed.exit_code == 0, subscribed.output
    return village_ids


def _run_json(runner, *args) -> dict:
    result = runner.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.usefixtures("prefect_harness")
def test_replay_cycle_summary(runner, loaded, snapshots):
    summary = _run_json(runner, "--replay", str(snapshots), "--at", AT)

    levels = summary["villages_by_level"]
    assert set(levels) == set(LEVELS)
    assert sum(levels.values()) + summary["villages_unmonitored"] == len(loaded)
    assert summary["gauges_read"] > 0
    assert summary["observations_stored"] > 0
    assert summary["quarantined_by_rule"]
    villages_above_normal = sum(levels[level] for level in LEVELS[1:])
    assert summary["alerts_queued"] == villages_above_normal
    assert summary["outbox_queued"] == summary["alerts_queued"]
    assert {"ingest", "predict", "levels", "alerts"} <= set(summary["stage_seconds"])


@pytest.mark.usefixtures("prefect_harness")
def test_replay_rerun_queues_nothing(runner, loaded, snapshots):
    first = _run_json(runner, "--replay", str(snapshots), "--at", AT)
    again = _run_json(runner, "--replay", str(snapshots), "--at", AT)

    assert again["observations_stored"] == 0
    assert again["alerts_queued"] == 0
    assert again["outbox_queued"] == 0
    assert again["quarantined_by_rule"] == {}
    assert again["villages_by_level"] == first["villages_by_level"]
    assert again["gauges_read"] == first["gauges_read"]


@pytest.mark.usefixtures("prefect_harness")
def test_quarantine_list_and_status(runner, loaded, snapshots):
    summary = _run_json(runner, "--replay", str(snapshots), "--at", AT)

    listed = runner.invoke(
        app, ["quarantine", "list", "--since", "2000-01-01T00:00+00:00", "--json"]
    )
    status = runner.invoke(app, ["status", "--json"])

    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) == sum(summary["quarantined_by_rule"].values())
    assert {"station_code", "observed_at", "value", "rule"} <= set(rows[0])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["cycle_id"] == summary["cycle_id"]


@pytest.mark.usefixtures("prefect_harness")
def test_villages_show_explains_level(runner, loaded, snapshots):
    summary = _run_json(runner, "--replay", str(snapshots), "--at", AT)

    reports = []
    for village_id in loaded:
        shown = runner.invoke(app, ["villages", "show", village_id, "--json"])
        assert shown.exit_code == 0, shown.output
        reports.append(json.loads(shown.stdout))
    missing = runner.invoke(app, ["villages", "show", "node/0"])

    at_risk = [r for r in reports if r["level"] not in (None, "NORMAL")]
    assert len(at_risk) == summary["alerts_queued"]
    assert all(r["gauge_usable"] for r in at_risk)
    assert all(r["reasons"] for r in at_risk)
    assert all(r["reference_station_code"] for r in at_risk)
    no_gauge = [r for r in reports if r["reference_station_code"] is None]
    assert all(r["reference_rule"].startswith("none") for r in no_gauge)
    assert missing.exit_code == 2
    assert "not found" in missing.stderr


def test_replay_before_first_snapshot_exits_2(runner, argus_env, snapshots):
    result = runner.invoke(
        app, ["run", "--replay", str(snapshots), "--at", "2026-07-01T00:00+05:30"]
    )

    assert result.exit_code == 2
    assert "2026-07-27" in result.stderr


def test_replay_time_without_zone_exits_2(runner, argus_env, snapshots):
    result = runner.invoke(
        app, ["run", "--replay", str(snapshots), "--at", "2026-08-01T12:00"]
    )

    assert result.exit_code == 2
    assert "no time zone" in result.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.usefixtures("prefect_harness")
def test_live_run_unreachable_says_one_line(runner, argus_env, loaded, monkeypatch):
    monkeypatch.setenv("ARGUS_CWC_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("ARGUS_HTTP_ATTEMPTS", "1")

    result = runner.invoke(app, ["run"])

    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.startswith("argus:")]
    assert len(lines) == 1
    assert "could not be reached" in lines[0]
