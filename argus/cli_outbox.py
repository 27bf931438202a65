"""``argus outbox send|list`` and ``argus api``: sending and webhooks for operators."""

import json
from typing import Annotated

import typer

outbox_app = typer.Typer(help="Send and inspect queued messages.", no_args_is_help=True)

STATUSES = ("queued", "sending", "sent", "expired", "cancelled", "failed")


@outbox_app.command("send")
def outbox_send(
    alert: Annotated[
        list[int] | None, typer.Option(help="Only this alert's rows (repeatable).")
    ] = None,
    village: Annotated[str | None, typer.Option(help="Only this village's.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Send at most this many queued rows.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Send queued messages now (Twilio, or the console without credentials).

    Rows left sending by a stopped sender are first looked up at the provider.
    """
    from argus.cli import FAILURES, _engine, _fail
    from argus.sending import send_outbox_sync

    try:
        settings, engine = _engine()
        report = send_outbox_sync(
            engine, settings, alert_ids=alert, village_id=village, limit=limit
        )
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), sort_keys=True))
        return
    typer.echo(
        f"{report.provider}: sent {report.sent} "
        f"(of which {report.found_at_provider} found already accepted), "
        f"expired {report.expired}, cancelled {report.cancelled}, "
        f"failed {report.failed}, requeued {report.requeued}, "
        f"still unconfirmed {report.left_sending}, in {report.seconds} s"
    )
    for error, count in sorted(report.errors.items()):
        typer.echo(f"  {count} x {error}")
    if report.left_sending or report.failed:
        raise typer.Exit(1)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None,
        typer.Option(help=f"Only rows in this status: {', '.join(STATUSES)}."),
    ] = None,
    alert: Annotated[int | None, typer.Option(help="Only this alert's rows.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the newest outbox rows; phone numbers are masked."""
    from argus.cli import FAILURES, _engine, _fail
    from argus.errors import ConfigurationError
    from argus.sending.outbox import count_by_status, list_rows
    from argus.storage.db import session_scope

    try:
        if status is not None and status not in STATUSES:
            raise ConfigurationError(
                f"--status {status!r} is unknown; use one of {', '.join(STATUSES)}"
            )
        _, engine = _engine()
        with session_scope(engine) as session:
            rows = list_rows(session, status=status, alert_id=alert, limit=limit)
            counts = count_by_status(session)
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps({"rows": rows, "by_status": counts}, sort_keys=True))
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>8} alert {row['alert_id']:<6} {row['channel']:<8} "
            f"{row['to']:<10} {row['status']:<9} {row['delivery_status'] or '-':<11} "
            f"{row['error'] or ''}"
        )
    typer.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty")


def api(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API: Twilio's status and inbound-message webhooks."""
    import uvicorn

    from argus.api import create_app
    from argus.cli import FAILURES, _engine, _fail

    try:
        settings, engine = _engine()
        app = create_app(settings, engine)
    except FAILURES as error:
        _fail(error)
    uvicorn.run(app, host=host, port=port, log_level="warning")
