"""``argus train``: train models from recorded data (Prefect flows)."""

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from argus.errors import ConfigurationError

train_app = typer.Typer(help="Train models from recorded data.", no_args_is_help=True)

DEFAULT_OUT = Path("models/artifacts/levels")
ArtifactFolder = Annotated[
    Path, typer.Option(help="Folder that receives the artifact <version>/.")
]


@train_app.command("levels")
def train_levels_command(
    replay: Annotated[
        Path, typer.Option(help="Folder of recorded FFS snapshots to train on.")
    ],
    out: ArtifactFolder = DEFAULT_OUT,
    seed: Annotated[int, typer.Option(help="Seed of the split and the training.")] = 0,
    epochs: Annotated[int, typer.Option(help="Training epochs.", min=1)] = 30,
    camels: Annotated[
        Path | None,
        typer.Option(help="CAMELS-US folder: also run the rainfall-runoff check."),
    ] = None,
    max_snapshots: Annotated[
        int | None,
        typer.Option(help="Use only the first this many snapshot times.", min=2),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train the level forecaster, score it on held-out data, write its card."""
    from argus.cli import FAILURES, _fail

    try:
        result = _train(replay, out, seed, epochs, camels, max_snapshots)
    except FAILURES as error:
        _fail(error)
    _print_result(result, as_json)


@train_app.command("regression")
def train_regression_command(
    replay: Annotated[
        Path, typer.Option(help="Folder of recorded FFS snapshots to backtest on.")
    ],
    out: ArtifactFolder = DEFAULT_OUT,
    stations: Annotated[
        Path | None,
        typer.Option(help="Station reference file (default: found beside DIR)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the held-out stations.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Backtest the adaptive upstream regression, write its artifact and card."""
    from argus.cli import FAILURES, _fail, _require_output_folder
    from flows.train_regression import train_regression

    try:
        if not replay.is_dir():
            raise ConfigurationError(f"replay folder {str(replay)!r} not found")
        if stations is not None and not stations.is_file():
            raise ConfigurationError(f"--stations file {str(stations)!r} not found")
        _require_snapshots(replay)
        _require_output_folder(out)
        result = train_regression(
            replay_dir=str(replay),
            out_dir=str(out),
            seed=seed,
            stations_file=str(stations) if stations else None,
        )
    except FAILURES as error:
        _fail(error)
    _print_result(result, as_json)


def _print_result(result: dict, as_json: bool) -> None:
    """Print a level model's folder and verdict, or the result as JSON."""
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    verdict = "promoted" if result["promoted"] else "not promoted (baseline serves)"
    typer.echo(f"level model {result['folder']}: {verdict}")
    typer.echo(f"card: {Path(result['folder']) / 'card.md'}")


def _require_snapshots(replay: Path) -> None:
    """Reject a replay folder without any ``ffs_*`` snapshot file."""
    from argus.sources.replay import ReplaySource

    if not ReplaySource(replay).snapshot_times():
        raise ConfigurationError(
            f"replay folder {str(replay)!r} contains no "
            "ffs_<YYYY-MM-DDTHHMM>[_N].json[.gz] files"
        )


def _train(replay, out, seed, epochs, camels, max_snapshots) -> dict:
    from argus.cli import _require_output_folder
    from flows.train_levels import train_levels

    if not replay.is_dir():
        raise ConfigurationError(f"replay folder {str(replay)!r} not found")
    _require_output_folder(out)
    if camels is not None and not camels.is_dir():
        raise ConfigurationError(f"CAMELS folder {str(camels)!r} not found")
    with tempfile.TemporaryDirectory(prefix="argus-train-") as work_dir:
        return train_levels(
            replay_dir=str(replay),
            out_dir=str(out),
            work_dir=work_dir,
            seed=seed,
            epochs=epochs,
            camels_dir=str(camels) if camels else None,
            max_snapshots=max_snapshots,
        )
