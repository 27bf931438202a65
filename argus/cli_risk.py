"""Commands of the village flood-risk model: ``train risk`` and ``villages exposure``.

Registered on the ``train`` and ``villages`` sub-apps in :mod:`argus.cli`.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from argus.errors import ConfigurationError

DATA_HELP = "Data folder with geo/, revenue_circles/, asdma/ and cwc_ffs/."


def _data_dir(data: Path) -> Path:
    if not data.is_dir():
        raise ConfigurationError(f"--data folder {str(data)!r} not found")
    return data


def train_risk(
    data: Annotated[Path, typer.Option(help=DATA_HELP)],
    out: Annotated[
        Path | None,
        typer.Option(help="Artifact folder; default models/artifacts/risk/VERSION."),
    ] = None,
    version: Annotated[str, typer.Option(help="Version name of the model.")] = "v1",
    seed: Annotated[int, typer.Option(help="Seed of the training.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train the village flood-risk model and write its card."""
    from argus.cli import FAILURES, _fail

    try:
        from flows.train_risk import train_risk as train_flow

        summary = train_flow(
            data_dir=str(_data_dir(data)),
            out_dir=str(out) if out else None,
            version=version,
            seed=seed,
        )
    except FAILURES as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(summary, sort_keys=True))
        return
    typer.echo(f"risk model {summary['version']} written to {summary['out_dir']}")
    for split, scores in summary["validation"].items():
        for kind, label in (
            ("live_features", "live features"),
            ("live_satellite_features", "live features with satellite"),
        ):
            live = scores[kind]
            typer.echo(
                f"  {split:<8} AUC {live['model_auc']:.3f} (climatology "
                f"{live['baseline_auc']:.3f}), Brier {live['model_brier']:.4f} "
                f"(climatology {live['baseline_brier']:.4f}), {label}"
            )
    state = "promoted" if summary["promoted"] else "NOT promoted"
    typer.echo(f"  {state}: {summary['promotion_reason']}")


def villages_exposure(
    data: Annotated[Path, typer.Option(help=DATA_HELP)],
) -> None:
    """Compute and store each village's static exposure for the risk model."""
    from argus.cli import FAILURES, _engine, _fail
    from argus.risk import compute_exposure

    try:
        _, engine = _engine()
        stored = compute_exposure(engine, _data_dir(data))
    except FAILURES as error:
        _fail(error)
    typer.echo(f"stored the exposure of {stored} villages from {data}")
