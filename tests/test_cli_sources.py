"""Commands for fallback, citizen reports, trust and satellite scenes, end to end."""

import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from argus.cli import app
from argus.storage.db import engine_for, session_scope
from argus.storage.source_tables import FallbackOverride, VillageSource

AT = "2026-08-01T12:00+05:30"
LAYER = "bhuvan_inundation_as_2023_07_07_18.tif"
SOURCES = {"gauge", "satellite", "camera", "citizen"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def loaded(argus_env, runner, village_cut):
    villages_csv, village_ids = village_cut
    imported = runner.invoke(app, ["villages", "import", str(villages_csv)])
    assert imported.exit_code == 0, imported.output
    return village_ids


@pytest.fixture
def satellite_dir(tmp_path, shared_data, monkeypatch):
    folder = tmp_path / "satellite"
    folder.mkdir()
    (folder / "flood.tif").symlink_to(shared_data / "satellite" / LAYER)
    declared = {
        "variable": "flooded_percent",
        "unit": "percent",
        "acquired_at": "2026-08-01T06:00+05:30",
    }
    (folder / "flood.json").write_text(json.dumps(declared))
    (folder / "broken.tif").write_bytes(b"not a tiff")
    (folder / "broken.json").write_text(json.dumps(declared))
    monkeypatch.setenv("ARGUS_SATELLITE_DIR", str(folder))
    return folder


def _url() -> str:
    from argus.settings import load_settings

    return load_settings().resolved_database_url


def test_fallback_switch_is_recorded(runner, loaded):
    village = loaded[0]

    enabled = runner.invoke(app, ["fallback", "enable", village, "--note", "flooded"])
    disabled = runner.invoke(app, ["fallback", "disable", village])

    assert enabled.exit_code == 0, enabled.output
    assert disabled.exit_code == 0, disabled.output
    assert f"village {village} released from" in disabled.stdout
    with session_scope(engine_for(_url())) as session:
        rows = session.exec(select(FallbackOverride)).all()
    assert [(r.enabled, r.note) for r in rows] == [(True, "flooded"), (False, "")]


def test_fallback_unknown_village_exits_2(runner, loaded):
    result = runner.invoke(app, ["fallback", "enable", "node/0"])

    assert result.exit_code == 2
    assert "village 'node/0' not found in the registry" in result.stderr


def test_report_stored_and_unknown_village_rejected(runner, loaded):
    stored = runner.invoke(
        app,
        ["report", "--reporter", "+919800000001", "--village", loaded[0]]
        + ["--depth-m", "0.4", "--at", AT],
    )
    unknown = runner.invoke(
        app,
        ["report", "--reporter", "+919800000001", "--village", "node/0"]
        + ["--flag", "flooded"],
    )

    assert stored.exit_code == 0, stored.output
    assert f"stored for {loaded[0]}" in stored.stdout
    assert unknown.exit_code == 2
    assert "village 'node/0' not found" in unknown.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_replay_with_satellite_falls_back(runner, loaded, satellite_dir, shared_data):
    snapshots = str(shared_data / "cwc_ffs" / "snapshots")
    forced = loaded[0]
    runner.invoke(app, ["fallback", "enable", forced])

    first = runner.invoke(app, ["run", "--replay", snapshots, "--at", AT, "--json"])
    trust = runner.invoke(app, ["trust", "--json", "--limit", "500"])
    scenes = runner.invoke(app, ["satellite", "scenes", "--json"])

    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["scenes_ingested"] == 1
    assert set(summary["villages_by_source"]) == SOURCES
    assert summary["villages_by_source"]["satellite"] == summary["villages_degraded"]
    assert summary["villages_degraded"] >= 1
    decided = sum(summary["villages_by_source"].values())
    assert decided + summary["villages_unmonitored"] == len(loaded)
    assert any("broken.tif" in failure for failure in summary["source_failures"])
    with session_scope(engine_for(_url())) as session:
        row = session.get(VillageSource, forced)
    assert row.source == "satellite"
    assert row.reason == "fallback forced by operator"
    scores = [row["score"] for row in json.loads(trust.stdout)]
    assert scores == sorted(scores)
    assert {"gauge", "satellite"} <= {row["kind"] for row in json.loads(trust.stdout)}
    listed = {row["name"]: row["status"] for row in json.loads(scenes.stdout)}
    assert listed == {"flood.tif": "ingested", "broken.tif": "rejected"}


def test_summary_names_fallback_sources():
    from argus.cli import _format_summary

    summary = {
        "cycle_id": 3,
        "cycle_at": "2026-08-01T06:30:00+00:00",
        "mode": "replay",
        "gauges_read": 84,
        "observations_stored": 10,
        "quarantined_by_rule": {},
        "villages_by_level": {"NORMAL": 5},
        "villages_unmonitored": 1,
        "alerts_queued": 0,
        "outbox_queued": 0,
        "source_failures": [],
        "scenes_ingested": 1,
        "villages_degraded": 4,
        "villages_by_source": {"gauge": 1, "satellite": 3, "camera": 0, "citizen": 1},
    }

    text = _format_summary(summary)

    assert (
        "DEGRADED: 4 villages decided by fallback sources (satellite 3, citizen 1)"
        in (text)
    )
    assert "satellite scenes     1 new" in text


def test_trust_text_lists_lowest_first(runner, argus_env):
    from datetime import UTC, datetime

    import pandas as pd

    from argus.trust import apply_evidence

    evidence = pd.DataFrame(
        {
            "source_id": ["gauge:A", "gauge:B"],
            "kind": ["gauge", "gauge"],
            "target": [1.0, 0.0],
            "reasons": [["contract pass rate 5/5 this cycle"], ["no reading"]],
        }
    )
    with session_scope(engine_for(_url())) as session:
        apply_evidence(session, evidence, at=datetime.now(UTC))

    result = runner.invoke(app, ["trust"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("0.40  gauge:B")
    assert "no reading" in lines[0]
    assert lines[1].startswith("0.82  gauge:A")
