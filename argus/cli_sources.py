"""Commands for the sources beside the gauges: fallback, reports, trust, scenes."""

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

fallback_app = typer.Typer(
    help="Force villages onto their fallback sources.", no_args_is_help=True
)
satellite_app = typer.Typer(help="Inspect satellite scenes.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add these commands to the ``argus`` application."""
    app.add_typer(fallback_app, name="fallback")
    app.add_typer(satellite_app, name="satellite")
    app.command("report")(report)
    app.command("trust")(trust)


def _switch(village_id: str, *, enabled: bool, note: str) -> None:
    from argus.cli import FAILURES, _engine, _fail
    from argus.fallback import set_fallback
    from argus.storage.db import session_scope

    try:
        _, engine = _engine()
        with session_scope(engine) as session:
            set_fallback(session, village_id, enabled=enabled, note=note)
    except FAILURES as error:
        _fail(error)
    state = "forced onto" if enabled else "released from"
    typer.echo(f"village {village_id} {state} its fallback sources")


@fallback_app.command("enable")
def fallback_enable(
    village_id: Annotated[str, typer.Argument(help="Village id.")],
    note: Annotated[str, typer.Option(help="Why, for the record.")] = "",
) -> None:
    """Decide a village from satellite and citizen reports, not its gauge."""
    _switch(village_id, enabled=True, note=note)


@fallback_app.command("disable")
def fallback_disable(
    village_id: Annotated[str, typer.Argument(help="Village id.")],
    note: Annotated[str, typer.Option(help="Why, for the record.")] = "",
) -> None:
    """Let the village's gauge decide its level again."""
    _switch(village_id, enabled=False, note=note)


def report(
    reporter: Annotated[
        str, typer.Option(help="Phone number or name; stored only as a hash.")
    ],
    village: Annotated[str | None, typer.Option(help="Village id.")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude [degrees].")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude [degrees].")] = None,
    depth_m: Annotated[
        float | None, typer.Option(help="Water depth at the village [m].")
    ] = None,
    flag: Annotated[
        str | None, typer.Option(help="Instead of a depth: flooded, rising or dry.")
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Time seen, ISO 8601 with offset; default now.")
    ] = None,
) -> None:
    """Record a citizen's report of water, taken by an operator."""
    from argus.cli import FAILURES, _engine, _fail, _parse_time
    from argus.reports import record_citizen_report, reporter_secret
    from argus.storage.db import session_scope

    try:
        settings, engine = _engine()
        reported_at = _parse_time(at, "--at") if at else datetime.now(UTC)
        with session_scope(engine) as session:
            row = record_citizen_report(
                session,
                reporter=reporter,
                reported_at=reported_at,
                secret=reporter_secret(settings),
                village_id=village,
                lat=lat,
                lon=lon,
                depth_m=depth_m,
                flag=flag,
                source="api",
                radius_km=settings.citizen_radius_km,
            )
    except FAILURES as error:
        _fail(error)
    place = row.village_id or f"no village within {settings.citizen_radius_km:g} km"
    typer.echo(f"report {row.id} stored for {place}")


def trust(
    kind: Annotated[
        str | None, typer.Option(help="Only gauge, satellite or citizen.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to print.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List sources by trust score, lowest first, with the reasons."""
    from argus.cli import FAILURES, _engine, _fail
    from argus.storage.db import session_scope
    from argus.trust import load_trust

    try:
        _, engine = _engine()
        with session_scope(engine) as session:
            scores = load_trust(session)
    except FAILURES as error:
        _fail(error)
    if kind is not None:
        scores = scores[scores["kind"] == kind]
    scores = scores.head(limit)
    if as_json:
        rows = scores.assign(updated_at=scores["updated_at"].map(_iso))
        typer.echo(json.dumps(rows.to_dict("records")))
        return
    for record in scores.to_dict("records"):
        reasons = "; ".join(record["reasons"])
        typer.echo(f"{record['score']:.2f}  {record['source_id']:<28} {reasons}")


@satellite_app.command("scenes")
def satellite_scenes(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the satellite scenes seen, ingested or rejected with the reason."""
    from argus.cli import FAILURES, _engine, _fail
    from argus.storage.db import session_scope
    from argus.storage.satellite import scenes

    try:
        _, engine = _engine()
        with session_scope(engine) as session:
            rows = [
                {
                    "name": scene.name,
                    "status": scene.status,
                    "acquired_at": _iso(scene.acquired_at),
                    "villages": scene.villages,
                    "reprojected_from": scene.reprojected_from,
                    "reason": scene.reason,
                }
                for scene in scenes(session)
            ]
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['status']:<9} {row['acquired_at'] or '-':<26} {row['name']}"
            f"{'  ' + row['reason'] if row['reason'] else ''}"
        )


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()
