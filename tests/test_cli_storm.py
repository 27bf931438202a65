"""`argus storm status|activate|deactivate` on both databases."""

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from argus.cli import app
from argus.storage.cycles import close_cycle, open_cycle
from argus.storage.db import engine_for, session_scope


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _status(runner) -> dict:
    result = runner.invoke(app, ["storm", "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_before_any_change(argus_env, runner):
    report = _status(runner)

    assert report["active"] is False
    assert report["since"] is None
    assert report["reason"] is None
    assert report["villages_at_emergency"] is None


def test_activate_and_deactivate_are_recorded(argus_env, runner):
    on = runner.invoke(
        app, ["storm", "activate", "--reason", "cyclone drill", "--operator", "Das"]
    )
    after_on = _status(runner)
    off = runner.invoke(
        app, ["storm", "deactivate", "--reason", "drill over", "--operator", "Bora"]
    )
    after_off = _status(runner)

    assert on.exit_code == 0, on.output
    assert "Storm Mode ON" in on.stdout
    assert after_on["active"] is True
    assert after_on["reason"] == "cyclone drill"
    assert after_on["actor"] == "operator Das"
    assert datetime.fromisoformat(after_on["since"]).tzinfo is not None
    assert off.exit_code == 0, off.output
    assert after_off["active"] is False
    assert after_off["actor"] == "operator Bora"


def test_villages_at_emergency_from_latest_cycle(argus_env, runner):
    engine = engine_for(argus_env)
    with session_scope(engine) as session:
        cycle_id = open_cycle(
            session, cycle_at=datetime(2026, 8, 1, 6, 30, tzinfo=UTC), mode="replay"
        )
        close_cycle(
            session,
            cycle_id,
            summary={"villages_at_emergency": 4, "villages_by_level": {"EMERGENCY": 3}},
            status="completed",
        )

    report = _status(runner)
    text = runner.invoke(app, ["storm", "status"])

    assert report["villages_at_emergency"] == 4
    assert report["cycle_at"] == "2026-08-01T06:30:00+00:00"
    assert text.exit_code == 0
    assert "villages at EMERGENCY  4" in text.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--reason", " ", "--operator", "Das"], "reason is empty"),
        (["--reason", "drill", "--operator", ""], "operator is empty"),
    ],
)
def test_activate_needs_reason_and_operator(argus_env, runner, arguments, message):
    result = runner.invoke(app, ["storm", "activate", *arguments])

    assert result.exit_code == 2
    assert message in result.stderr
    assert _status(runner)["active"] is False
