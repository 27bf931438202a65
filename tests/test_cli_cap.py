"""`argus cap export` end to end: active alerts as CAP files, bad folders."""

import csv
import json
from datetime import timedelta

import pytest
from lxml import etree
from typer.testing import CliRunner

from argus.cap import CAP_NAMESPACE, validate_cap
from argus.cli import app
from argus.storage.db import session_scope
from tests.argus.alert_rows import CYCLE_AT, add_alert, add_village

AT = "2026-08-01T12:00+05:30"
NS = {"cap": CAP_NAMESPACE}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _files(folder):
    return sorted(p.name for p in folder.glob("*.xml"))


def _first(path, xpath: str) -> str:
    return etree.parse(str(path)).xpath(xpath, namespaces=NS)[0]


@pytest.mark.usefixtures("prefect_harness")
def test_export_after_replay_cycle(
    runner, argus_env, village_cut, shared_data, tmp_path
):
    villages_csv, village_ids = village_cut
    assert runner.invoke(app, ["villages", "import", str(villages_csv)]).exit_code == 0
    subscribers = tmp_path / "subscribers.csv"
    with subscribers.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["phone", "name", "language", "channels", "village_ids", "role", "consent"]
        )
        writer.writerow(
            ["+919800000001", "", "as", "sms", ";".join(village_ids), "resident", "yes"]
        )
    assert (
        runner.invoke(app, ["subscribers", "import", str(subscribers)]).exit_code == 0
    )
    snapshots = shared_data / "cwc_ffs" / "snapshots"
    cycle = runner.invoke(
        app, ["run", "--replay", str(snapshots), "--at", AT, "--json"]
    )
    assert cycle.exit_code == 0, cycle.output
    summary = json.loads(cycle.stdout.strip().splitlines()[-1])
    folder = tmp_path / "feed" / "cap"

    exported = runner.invoke(app, ["cap", "export", str(folder), "--at", AT])

    assert exported.exit_code == 0, exported.output
    paths = sorted(folder.glob("*.xml"))
    assert summary["alerts_queued"] > 0
    assert len(paths) == summary["alerts_queued"]
    assert f"wrote {len(paths)} CAP files" in exported.stdout
    for path in paths:
        validate_cap(path.read_bytes())
        languages = etree.parse(str(path)).xpath("//cap:language/text()", namespaces=NS)
        assert languages == ["en-IN", "as-IN"]


@pytest.fixture
def alerts(engine, argus_env):
    """Village alerts: WARNING then EMERGENCY, and two villages with ended alerts."""
    with session_scope(engine) as session:
        add_village(session)
        add_alert(session, level="WARNING", previous=None)
        add_alert(session, level="EMERGENCY", hours_after=2)
        add_alert(session, level="WATCH", previous=None, village_id="node/2")
        add_alert(
            session,
            level="NORMAL",
            kind="all_clear",
            hours_after=3,
            village_id="node/2",
        )
        stale = add_alert(session, level="WARNING", previous=None, village_id="node/3")
        stale.expires_at = CYCLE_AT + timedelta(hours=1)


def test_export_writes_only_active_alerts(runner, alerts, tmp_path):
    result = runner.invoke(app, ["cap", "export", str(tmp_path), "--at", AT + ":00"])

    assert result.exit_code == 0, result.output
    # At 12:00 IST (the first cycle) each village has one alert, none ended.
    assert _files(tmp_path) == [
        "argus-alert-1-20260801T1200.xml",
        "argus-alert-3-20260801T1200.xml",
        "argus-alert-5-20260801T1200.xml",
    ]


def test_export_later_takes_latest_alert_per_village(runner, alerts, tmp_path):
    result = runner.invoke(
        app, ["cap", "export", str(tmp_path), "--at", "2026-08-01T18:00+05:30"]
    )

    assert result.exit_code == 0, result.output
    # node/2 has had its all-clear and node/3's alert expired at 13:00 IST.
    assert _files(tmp_path) == ["argus-alert-2-20260801T1400.xml"]
    path = tmp_path / "argus-alert-2-20260801T1400.xml"
    assert _first(path, "/cap:alert/cap:msgType/text()") == "Update"
    assert (path.stat().st_mode & 0o777) == 0o644


def test_export_since_writes_every_alert(runner, alerts, tmp_path):
    result = runner.invoke(
        app, ["cap", "export", str(tmp_path), "--since", "2026-08-01T00:00+05:30"]
    )

    assert result.exit_code == 0, result.output
    assert len(_files(tmp_path)) == 5
    cancel = tmp_path / "argus-alert-4-20260801T1500.xml"
    assert _first(cancel, "/cap:alert/cap:msgType/text()") == "Cancel"


def test_export_to_a_file_exits_2(runner, alerts, tmp_path):
    target = tmp_path / "feed.xml"
    target.write_text("not a folder")

    result = runner.invoke(app, ["cap", "export", str(target)])

    assert result.exit_code == 2
    assert "is a file, not a folder" in result.stderr
    assert target.read_text() == "not a folder"


def test_export_below_a_file_exits_2(runner, alerts, tmp_path):
    (tmp_path / "feed.xml").write_text("not a folder")

    result = runner.invoke(app, ["cap", "export", str(tmp_path / "feed.xml" / "cap")])

    assert result.exit_code == 2
    assert "cannot create CAP export folder" in result.stderr
    assert "Not a directory" in result.stderr


def test_export_since_and_at_exclude_each_other(runner, argus_env, tmp_path):
    result = runner.invoke(
        app, ["cap", "export", str(tmp_path), "--since", AT, "--at", AT]
    )

    assert result.exit_code == 2
    assert "exclude each other" in result.stderr
