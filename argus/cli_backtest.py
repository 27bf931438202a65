"""``argus backtest``: replay recorded snapshots and score the forecasts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from argus.errors import ConfigurationError

REPORT_OPTIONS = ("--circles", "--asdma", "--drims")


def backtest(
    replay: Annotated[
        Path, typer.Option(help="Folder of recorded ffs_*.json[.gz] snapshots.")
    ],
    out: Annotated[
        Path, typer.Option(help="Folder for forecasts.csv, alerts.csv, metrics.json.")
    ],
    start: Annotated[
        str | None,
        typer.Option(
            help="First issue time, ISO 8601 with offset (default: first file)."
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            help="Last issue time, ISO 8601 with offset (default: last file)."
        ),
    ] = None,
    villages: Annotated[
        Path | None,
        typer.Option(help="Villages CSV or OSM places JSON; without it no levels."),
    ] = None,
    stations: Annotated[
        Path | None, typer.Option(help="Station reference file for the replay.")
    ] = None,
    circles: Annotated[
        Path | None, typer.Option(help="Revenue-circle GeoJSON (circle check).")
    ] = None,
    asdma: Annotated[
        Path | None, typer.Option(help="ASDMA per-circle report CSV (circle check).")
    ] = None,
    drims: Annotated[
        Path | None,
        typer.Option(help="DRIMS population-affected monthly CSV (circle check)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap intervals.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print metrics JSON.")
    ] = False,
) -> None:
    """Replay snapshots hour by hour, as the nowcast saw them, and score the skill."""
    from argus.cli import FAILURES, _fail, _parse_time

    try:
        metrics = _run(
            replay, out, start, end, villages, stations, (circles, asdma, drims), seed,
            parse_time=_parse_time,
        )  # fmt: skip
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(metrics, default=str))
    else:
        typer.echo(format_summary(metrics, out))
    if metrics["instants"]["scored"] == 0:
        typer.echo(
            f"argus: no issue hour could be scored from {str(replay)!r}; "
            "see files.skipped and instants in metrics.json",
            err=True,
        )
        raise typer.Exit(1)


def _run(
    replay, out, start, end, villages, stations, report_files, seed, *, parse_time
):
    from argus.backtest.circles import CircleReports
    from argus.backtest.run import BacktestRequest, run_backtest
    from argus.cli import _require_output_folder
    from argus.settings import load_settings
    from models.serving import serving_forecaster

    first = parse_time(start, "--start") if start else None
    last = parse_time(end, "--end") if end else None
    if first and last and last < first:
        raise ConfigurationError(f"--end {end!r} is before --start {start!r}")
    _check_window(replay, first, last, start, end)
    for option, path in zip(("--villages", "--stations", *REPORT_OPTIONS),
                            (villages, stations, *report_files), strict=True):  # fmt: skip
        if path is not None and not path.is_file():
            raise ConfigurationError(f"{option} file {str(path)!r} not found")
    reports_given = [path is not None for path in report_files]
    if any(reports_given) and not all(reports_given):
        raise ConfigurationError(
            "the revenue-circle check needs all of --circles, --asdma and --drims"
        )
    if any(reports_given) and villages is None:
        raise ConfigurationError("the revenue-circle check needs --villages")
    _require_output_folder(out)
    settings = load_settings()
    request = BacktestRequest(
        replay_dir=replay,
        out_dir=out,
        start=first,
        end=last,
        villages_file=villages,
        stations_file=stations,
        reports=CircleReports(*report_files) if all(reports_given) else None,
        seed=seed,
    )
    return run_backtest(
        request, forecaster=serving_forecaster(settings), settings=settings
    )


def _check_window(replay: Path, first, last, start, end) -> None:
    """Reject a --start after the last snapshot or an --end before the first."""
    from argus.sources.replay import ReplaySource

    if not replay.is_dir():
        return
    times = ReplaySource(replay).snapshot_times()
    if not times:
        return
    span = f"the snapshots run from {times[0].isoformat()} to {times[-1].isoformat()}"
    if first and first > times[-1]:
        raise ConfigurationError(
            f"--start {start!r} is after the last snapshot; {span}"
        )
    if last and last < times[0]:
        raise ConfigurationError(f"--end {end!r} is before the first snapshot; {span}")


def format_summary(metrics: dict, out: Path) -> str:
    """Format the main numbers of a backtest as a few lines of text."""
    instants = metrics["instants"]
    files = metrics["files"]
    lines = [
        f"backtest written to {out}",
        (
            f"  issue hours          {instants['issue_hours']} "
            f"(scored {instants['scored']}, without forecast "
            f"{instants['without_forecast']})"
        ),
        (
            f"  snapshot files       {files['snapshots']} "
            f"(skipped {len(files['skipped'])}, gaps over 6 h {len(files['gaps'])})"
        ),
        f"  forecast rows        {metrics['forecast_rows']}",
        f"  alerts               {metrics['alerts']['rows']}",
    ]
    for name, bucket in metrics.get("buckets", {}).items():
        argus, persistence = bucket["argus"], bucket["persistence"]
        if not argus["n"]:
            continue
        lines.append(
            f"  {name:>5} h  MAE {argus['mae_m']:.3f} m (persistence "
            f"{persistence['mae_m']:.3f}), within 0.15 m {argus['within_0_15']:.0%} "
            f"(persistence {persistence['within_0_15']:.0%}), n {argus['n']}"
        )
    for problem in files["skipped"]:
        lines.append(f"  skipped {problem['file']}: {problem['reason']}")
    return "\n".join(lines)
