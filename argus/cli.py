"""The ``argus`` command line: the runbook commands of operators and checks."""

import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from argus.cli_cap import cap_app
from argus.cli_sources import register as register_source_commands
from argus.cli_storm import storm_app
from argus.cli_train import train_app
from argus.errors import (
    ArgusError,
    ConfigurationError,
    InputError,
    ReplayError,
    SourceError,
    StorageError,
)

# Prefect runs offline: no telemetry. Set before Prefect is first imported.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

logger = logging.getLogger("argus.cli")

IST = timezone(timedelta(hours=5, minutes=30), "IST")

app = typer.Typer(help="ARGUS flood early warning.", no_args_is_help=True)
villages_app = typer.Typer(help="Load the village registry.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Inspect quarantined readings.", no_args_is_help=True)
subscribers_app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)
app.add_typer(villages_app, name="villages")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(train_app, name="train")
app.add_typer(cap_app, name="cap")
app.add_typer(storm_app, name="storm")
register_source_commands(app)

EXIT_CODES = {
    ReplayError: 2,
    ConfigurationError: 2,
    InputError: 2,
    SourceError: 3,
    StorageError: 4,
    SQLAlchemyError: 4,
    OSError: 4,
}
# Errors a command turns into one line and an exit code instead of a traceback.
FAILURES = (ArgusError, SQLAlchemyError, OSError)


def _require_output_folder(path: Path, option: str = "--out") -> None:
    """Reject an output path that exists but is not a folder.

    Raises
    ------
    ConfigurationError
        If ``path`` is a file (or anything else that is not a folder).
    """
    if path.exists() and not path.is_dir():
        raise ConfigurationError(
            f"{option} {str(path)!r} exists and is not a folder; pass a folder"
        )


def _warn_if_after_snapshots(source, cycle_at: datetime, at: str) -> None:
    """Warn when --at is so far past the newest snapshot that every gauge is stale."""
    from argus.settings import load_settings

    max_age_h = load_settings().gauge_max_age_h
    newest = source.latest_time()
    hours_after = (cycle_at - newest).total_seconds() / 3600
    if hours_after > max_age_h:
        typer.echo(
            f"argus: warning: --at {at!r} is {hours_after:.0f} h after the newest "
            f"snapshot ({newest.astimezone(IST).isoformat()}), more than "
            f"ARGUS_GAUGE_MAX_AGE_H={max_age_h:g} h, so every gauge reading is "
            "stale and no village can be monitored; check --at",
            err=True,
        )


def _fail(error: BaseException) -> None:
    """Print one clear line to stderr and exit with the code of the error kind."""
    code = next((c for kind, c in EXIT_CODES.items() if isinstance(error, kind)), 1)
    if isinstance(error, SQLAlchemyError):
        cause = getattr(error, "orig", None) or error
        message = f"database error: {str(cause).splitlines()[0]}"
    else:
        message = str(error).splitlines()[0] if str(error) else repr(error)
    typer.echo(f"argus: {message}", err=True)
    raise typer.Exit(code)


def _engine():
    from argus.settings import load_settings
    from argus.storage.db import engine_for

    settings = load_settings()
    return settings, engine_for(settings.resolved_database_url)


def _parse_time(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise ConfigurationError(
            f"{option} {text!r} is not an ISO 8601 time: {error}"
        ) from error
    if value.tzinfo is None:
        raise ConfigurationError(
            f"{option} {text!r} has no time zone; add an offset such as +05:30"
        )
    if not 1900 <= value.year <= 2200:
        raise ConfigurationError(f"{option} {text!r} is outside the years 1900..2200")
    return value


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log INFO lines of every step.")
    ] = False,
) -> None:
    if not verbose:
        # Failures reach the operator as one line from this command; the run's
        # full logs stay available with --verbose. Prefect and Dask read these
        # variables when first imported, which happens after this point.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # Libraries that set their own loggers to INFO are filtered at the handler.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.INFO if verbose else logging.WARNING)


@app.command()
def run(
    replay: Annotated[
        Path | None, typer.Option(help="Folder of recorded FFS snapshots to replay.")
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Cycle time, ISO 8601 with offset (replay).")
    ] = None,
    stations: Annotated[
        Path | None, typer.Option(help="Station reference file for a replay.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run one nowcast cycle: live now, or as of --at over --replay."""
    try:
        summary = _run_cycle(replay, at, stations)
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(summary, sort_keys=True))
        return
    typer.echo(_format_summary(summary))


def _run_cycle(replay: Path | None, at: str | None, stations: Path | None) -> dict:
    from argus.commands import fetch_villages, villages_loaded
    from argus.settings import load_settings
    from argus.sources.replay import ReplaySource
    from flows.nowcast import nowcast
    from models.serving import serving_forecaster

    if at is not None:
        _parse_time(at, "--at")
    if replay is None and at is not None:
        raise ConfigurationError("--at needs --replay; a live cycle runs as of now")
    if replay is not None and at is None:
        raise ConfigurationError("--replay needs --at, the time to replay as of")
    if replay is not None and not replay.is_dir():
        raise ConfigurationError(f"replay folder {str(replay)!r} not found")
    if stations is not None and not stations.is_file():
        raise ConfigurationError(f"--stations file {str(stations)!r} not found")
    if replay is not None:
        cycle_at = _parse_time(at, "--at")
        if cycle_at > datetime.now(UTC) + timedelta(hours=1):
            raise ConfigurationError(
                f"--at {at!r} is in the future; a replay runs as of a past time"
            )
        # Fail before the flow starts when nothing is visible at --at.
        source = ReplaySource(replay)
        source.require_visible(cycle_at)
        _warn_if_after_snapshots(source, cycle_at, at)
    # Load the level model before the cycle opens, so a broken
    # ARGUS_LEVEL_MODEL_DIR fails here and leaves no failed cycle behind.
    serving_forecaster(load_settings())
    if villages_loaded() == 0:
        if replay is None:
            logger.info("no villages loaded; fetching them from OpenStreetMap")
            fetch_villages("assam")
        else:
            typer.echo(
                "argus: warning: no villages loaded, so no village levels; "
                "load them with `argus villages import FILE`",
                err=True,
            )
    return nowcast(
        at=at,
        replay_dir=str(replay) if replay else None,
        stations_file=str(stations) if stations else None,
    )


def _local(iso_time: str | None) -> str:
    """Show a stored UTC time in IST, the time CWC and district offices use."""
    if not iso_time:
        return "-"
    return datetime.fromisoformat(iso_time).astimezone(IST).isoformat()


def _format_summary(summary: dict) -> str:
    levels = ", ".join(f"{k} {v}" for k, v in summary["villages_by_level"].items())
    rules = summary["quarantined_by_rule"] or "none in this cycle"
    unmonitored = summary["villages_unmonitored"]
    at_risk = summary.get("villages_at_risk_unmonitored", 0)
    cycle_at = _local(summary["cycle_at"])
    lines = [
        f"cycle {summary['cycle_id']} at {cycle_at} ({summary['mode']})",
        f"  gauges read          {summary['gauges_read']}",
        f"  observations stored  {summary['observations_stored']}",
        f"  quarantined          {rules}",
        f"  villages             {levels}; unmonitored {unmonitored}",
        f"  camera readings      {summary.get('camera_readings', 0)}",
        f"  alerts queued        {summary['alerts_queued']}",
        f"  messages queued      {summary['outbox_queued']}",
        (
            f"  messages sent        {summary.get('outbox_sent', '-')}"
            f" (failed {summary.get('outbox_failed', '-')})"
        ),
    ]
    if "storm_mode" in summary:
        storm = "ON" if summary["storm_mode"]["active"] else "off"
        lines += [
            f"  escalation messages  {summary['escalation_queued']}",
            f"  Storm Mode           {storm}",
        ]

    degraded = summary.get("villages_degraded", 0)
    if degraded:
        by_source = ", ".join(
            f"{source} {count}"
            for source, count in summary.get("villages_by_source", {}).items()
            if count and source != "gauge"
        )
        lines.append(
            f"  DEGRADED: {degraded} villages decided by fallback sources ({by_source})"
        )

    if summary.get("scenes_ingested"):
        lines.append(f"  satellite scenes     {summary['scenes_ingested']} new")
    if at_risk:
        lines.append(
            f"  DEGRADED: {at_risk} villages last above NORMAL have no gauge now"
        )
    if not summary.get("above_warning_known", True):
        lines.append("  CWC above-warning list: unknown this cycle")
    for code, source in summary.get(
        "stations_registered_without_reference", {}
    ).items():
        lines.append(f"  new station without reference: {code} (read in {source})")
    lines += [f"  source failure: {failure}" for failure in summary["source_failures"]]
    return "\n".join(lines)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the latest cycle's summary from the database."""
    from argus.storage.cycles import latest_cycle
    from argus.storage.db import session_scope

    try:
        _, engine = _engine()
        with session_scope(engine) as session:
            cycle = latest_cycle(session)
    except FAILURES as error:
        _fail(error)
    if cycle is None:
        if as_json:
            typer.echo("null")
        typer.echo("argus: no cycle has run yet; start one with `argus run`", err=True)
        raise typer.Exit(1)
    summary = {**json.loads(cycle.summary), "status": cycle.status}
    summary.setdefault("cycle_at", cycle.cycle_at.isoformat())
    if as_json or cycle.status != "completed":
        typer.echo(json.dumps(summary, sort_keys=True))
    else:
        typer.echo(_format_summary(summary))
    if cycle.status != "completed":
        typer.echo(
            f"argus: the latest cycle ({cycle.id}) {cycle.status}: "
            f"{summary.get('error', 'no summary recorded')}",
            err=True,
        )
        raise typer.Exit(1)


@app.command()
def serve(
    server: Annotated[
        bool, typer.Option("--server", help="Start the local Prefect server too.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the local Prefect server.")] = 4200,
) -> None:
    """Register the deployments and run a worker per pool until interrupted."""
    from argus.cli_serve import serve as serve_until_interrupted

    try:
        code = serve_until_interrupted(server=server, port=port)
    except FAILURES as error:
        _fail(error)
    raise typer.Exit(code)


@quarantine_app.command("list")
def quarantine_list(
    since: Annotated[str, typer.Option(help="ISO 8601 time with offset.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List readings quarantined by the data contracts, observed since --since."""
    from argus.commands import quarantined_rows

    try:
        rows = quarantined_rows(_parse_time(since, "--since"))
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['station_code']:<14} {_local(row['observed_at']):<26} "
            f"{row['value']!s:>10}  {row['rule']}"
        )


@villages_app.command("import")
def villages_import(
    path: Annotated[Path, typer.Argument(help="OSM places JSON or villages CSV.")],
) -> None:
    """Load villages from an OpenStreetMap places file or a CSV."""
    from argus.commands import import_villages

    try:
        stored, problems = import_villages(path)
    except FAILURES as error:
        _fail(error)
    for problem in problems:
        typer.echo(f"argus: skipped {problem}", err=True)
    typer.echo(f"stored {stored} villages from {path}")


@villages_app.command("show")
def villages_show(
    village_id: Annotated[str, typer.Argument(help="Village id, e.g. node/245746325.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a village's reference gauge, latest reading and level."""
    from argus.commands import describe_village

    try:
        report = describe_village(village_id)
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        typer.echo(f"{key:<24} {value}")


@villages_app.command("fetch")
def villages_fetch(
    region: Annotated[str, typer.Option(help="Region name, e.g. assam.")] = "assam",
) -> None:
    """Load villages from OpenStreetMap's Overpass API."""
    from argus.commands import fetch_villages

    try:
        stored = fetch_villages(region)
    except FAILURES as error:
        _fail(error)
    typer.echo(f"stored {stored} villages of {region} from OpenStreetMap")


@subscribers_app.command("import")
def subscribers_import(
    path: Annotated[Path, typer.Argument(help="Subscribers CSV.")],
) -> None:
    """Load subscribers from a CSV; bad rows are reported by line."""
    from argus.commands import import_subscriber_file

    try:
        result = import_subscriber_file(path)
    except FAILURES as error:
        _fail(error)
    for problem in result.problems:
        typer.echo(f"argus: {problem}", err=True)
    typer.echo(f"stored {result.stored} subscribers from {path}")


# Sub-apps in their own modules; imported last because they reuse _fail above.
from argus import cli_risk
from argus.cli_backtest import backtest
from argus.cli_camera import camera_app
from argus.cli_outbox import api, outbox_app

app.add_typer(camera_app, name="camera")
app.command()(backtest)
train_app.command("risk")(cli_risk.train_risk)
villages_app.command("exposure")(cli_risk.villages_exposure)
app.add_typer(outbox_app, name="outbox")
app.command("api")(api)
