"""``argus storm status|activate|deactivate``: see and force Storm Mode."""

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

storm_app = typer.Typer(help="See and force Storm Mode.", no_args_is_help=True)

Reason = Annotated[str, typer.Option(help="Why Storm Mode is changed (recorded).")]
Operator = Annotated[str, typer.Option(help="Name of the operator (recorded).")]


def storm_report() -> dict:
    """Storm Mode now and the villages at EMERGENCY in the latest cycle."""
    from argus import storm
    from argus.cli import _engine
    from argus.storage.cycles import latest_cycle
    from argus.storage.db import session_scope

    _, engine = _engine()
    with session_scope(engine) as session:
        report = storm.storm_status(session)
        cycle = latest_cycle(session)
    summary = json.loads(cycle.summary) if cycle else {}
    at_emergency = summary.get("villages_at_emergency")
    if at_emergency is None:
        at_emergency = summary.get("villages_by_level", {}).get("EMERGENCY")
    report["villages_at_emergency"] = at_emergency
    report["cycle_at"] = cycle.cycle_at.isoformat() if cycle else None
    return report


def change_storm_mode(*, active: bool, reason: str, operator: str) -> dict:
    """Record an operator's change of Storm Mode; returns the new state."""
    from argus import storm
    from argus.cli import _engine
    from argus.storage.db import session_scope

    _, engine = _engine()
    with session_scope(engine) as session:
        storm.set_storm_mode(
            session,
            active=active,
            reason=reason,
            operator=operator,
            now=datetime.now(UTC).replace(microsecond=0),
        )
        return storm.storm_status(session)


@storm_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show whether Storm Mode is on, since when, why, and who changed it."""
    from argus.cli import FAILURES, _fail, _local

    try:
        report = storm_report()
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
        return
    state = "ON" if report["active"] else "off"
    typer.echo(f"Storm Mode {state}")
    if report["since"]:
        typer.echo(f"  since                  {_local(report['since'])}")
        typer.echo(f"  reason                 {report['reason']}")
        typer.echo(f"  changed by             {report['actor']}")
    at_emergency = report["villages_at_emergency"]
    typer.echo(
        f"  villages at EMERGENCY  {'-' if at_emergency is None else at_emergency}"
        f" (cycle {_local(report['cycle_at'])})"
    )


@storm_app.command("activate")
def activate(reason: Reason, operator: Operator) -> None:
    """Turn Storm Mode on now, recording the reason and the operator."""
    _change(active=True, reason=reason, operator=operator)


@storm_app.command("deactivate")
def deactivate(reason: Reason, operator: Operator) -> None:
    """Turn Storm Mode off now, recording the reason and the operator."""
    _change(active=False, reason=reason, operator=operator)


def _change(*, active: bool, reason: str, operator: str) -> None:
    from argus.cli import FAILURES, _fail

    try:
        report = change_storm_mode(active=active, reason=reason, operator=operator)
    except FAILURES as error:
        _fail(error)
    typer.echo(
        f"Storm Mode {'ON' if report['active'] else 'off'} since {report['since']} "
        f"({report['actor']}: {report['reason']})"
    )
