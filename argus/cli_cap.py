"""``argus cap export``: the active alerts as CAP 1.2 files."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

cap_app = typer.Typer(help="Export alerts as CAP 1.2 messages.", no_args_is_help=True)


@cap_app.command("export")
def cap_export(
    folder: Annotated[Path, typer.Argument(help="Folder to write the CAP files to.")],
    since: Annotated[
        str | None,
        typer.Option(help="Write every alert since this ISO 8601 time instead."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Time the active alerts are taken at (default: now)."),
    ] = None,
) -> None:
    """Write the active alerts as CAP 1.2 files, one <identifier>.xml each.

    Active: the latest alert of each village, unless it is an all-clear or has
    expired. Files already in the folder are kept.
    """
    # Imported here: argus.cli imports this module to register the command.
    from argus.cli import FAILURES, _fail

    try:
        export = _export(folder, since=since, at=at)
    except FAILURES as error:
        _fail(error)
    for problem in export.problems:
        typer.echo(f"argus: {problem}", err=True)
    typer.echo(f"wrote {len(export.written)} CAP files to {folder}")
    if export.problems:
        raise typer.Exit(1)


def _export(folder: Path, *, since: str | None, at: str | None):
    from argus.cap_export import (
        active_alerts,
        alerts_since,
        cap_options,
        prepare_folder,
        write_cap_files,
    )
    from argus.cli import _engine, _parse_time
    from argus.errors import ConfigurationError
    from argus.storage.db import session_scope

    if since is not None and at is not None:
        raise ConfigurationError("--since and --at exclude each other; use one")
    start = _parse_time(since, "--since") if since is not None else None
    as_of = _parse_time(at, "--at") if at is not None else datetime.now(UTC)
    prepare_folder(folder)

    settings, engine = _engine()
    options = cap_options(settings)
    with session_scope(engine) as session:
        if start is not None:
            alerts = alerts_since(session, start)
        else:
            alerts = active_alerts(session, at=as_of, options=options)
        return write_cap_files(session, alerts, folder, options)
