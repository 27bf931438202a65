"""Evaluate the adaptive upstream regression and write its artifact and card.

The regression is refitted at every issue. Training it therefore means fixing
its settings, writing them as a versioned artifact, and scoring that artifact
in a backtest of the recorded snapshots. The card's held-out sets are cut from
the backtest's scored rows. The artifact is promoted only if its card marks it promoted.
"""

import json
import tempfile
from pathlib import Path

import pandas as pd
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from argus.backtest.run import (
    OFFICIAL_PAIRS_FILE,
    SCORED_FILE,
    BacktestRequest,
    run_backtest,
)
from argus.errors import ConfigurationError
from argus.settings import load_settings
from argus.sources.replay import ReplaySource
from models.adaptive_regression import RegressionConfig
from models.regression_artifact import (
    evaluate,
    load_regression,
    regression_version,
    save_regression,
    write_card,
)
from models.serving import ARTIFACT_ROOT

# Share of the issue hours, the latest ones, that is held-out time (as for the LSTM).
HELD_OUT_TIME_SHARE = 0.3
CAVEATS = [
    (
        "The regression's settings (window, check hours, ridge, sample minimums) "
        "were chosen by looking at skill over the same recorded fortnight, all "
        "stations and hours, so neither held-out set is untouched by development."
    ),
    (
        "The fortnight is short: held-out time is about four days of one monsoon, "
        "and consecutive hours of one gauge are strongly correlated; the intervals "
        "resample station-days for that reason."
    ),
]


@task
def backtest_task(
    replay_dir: str, folder: str, work_dir: str, seed: int, stations_file: str | None
) -> str:
    """Backtest the artifact in ``folder`` over the snapshots; returns the output."""
    out = Path(work_dir) / "backtest"
    request = BacktestRequest(
        replay_dir=Path(replay_dir),
        out_dir=out,
        stations_file=Path(stations_file) if stations_file else None,
        seed=seed,
    )
    forecaster = load_regression(Path(folder))
    run_backtest(request, forecaster=forecaster, settings=load_settings())
    return str(out)


@task
def card_task(folder: str, backtest_dir: str, seed: int, data: str) -> dict:
    """Score the held-out sets of the backtest and write the card."""
    scored = pd.read_csv(Path(backtest_dir) / SCORED_FILE)
    pairs = pd.read_csv(Path(backtest_dir) / OFFICIAL_PAIRS_FILE)
    hours = sorted(pd.to_datetime(scored["issued_at"], utc=True).unique())
    holdout_from = pd.Timestamp(hours[int(len(hours) * (1 - HELD_OUT_TIME_SHARE))])
    card = evaluate(scored, pairs, holdout_from=holdout_from, seed=seed)
    name = Path(folder).name
    note = {"name": f"upstream_regression-{name}", "data": data, "caveats": CAVEATS}
    write_card(Path(folder), card, note)
    create_markdown_artifact(
        (Path(folder) / "card.md").read_text(),
        key="level-regression-card",
        description="level model card",
    )
    return {"folder": folder, "promoted": card["promoted"]}


@flow(name="train-regression", log_prints=True)
def train_regression(
    replay_dir: str,
    out_dir: str = str(ARTIFACT_ROOT),
    work_dir: str | None = None,
    seed: int = 0,
    stations_file: str | None = None,
) -> dict:
    """Write, backtest and card the regression; returns its folder and verdict.

    Without ``work_dir`` the backtest's scratch files go to a temporary folder.
    """
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="argus-regression-") as scratch:
            return train_regression.fn(
                replay_dir, out_dir, scratch, seed, stations_file
            )
    times = ReplaySource(Path(replay_dir)).snapshot_times()
    if not times:
        raise ValueError(
            f"no snapshot files in {replay_dir!r}; pass a folder of ffs_*.json.gz polls"
        )
    data = (
        f"{len(times)} snapshot times from {times[0]:%Y-%m-%d} to {times[-1]:%Y-%m-%d}"
    )
    config = RegressionConfig()
    version = regression_version(config, pd.Timestamp(times[-1]))
    _reject_card_from_other_data(Path(out_dir) / version, data)
    folder = save_regression(Path(out_dir), config, pd.Timestamp(times[-1]))
    backtest_dir = backtest_task(replay_dir, str(folder), work_dir, seed, stations_file)
    return card_task(str(folder), backtest_dir, seed, data)


def _reject_card_from_other_data(folder: Path, data: str) -> None:
    """Reject an output folder whose card was written from other snapshots.

    The version names only the data's last day and the settings, so a shorter
    cut ending on the same day maps to the same folder, and its card would
    replace the card that promoted the artifact.

    Raises
    ------
    ConfigurationError
        If ``folder`` has a card whose data differs from ``data``.
    """
    card_file = folder / "card.json"
    if not card_file.is_file():
        return
    try:
        existing = json.loads(card_file.read_text()).get("data")
    except (OSError, ValueError, AttributeError) as error:
        raise ConfigurationError(
            f"artifact card {str(card_file)!r} cannot be read ({error}); "
            "pass another --out (out_dir) to keep it"
        ) from error
    if existing != data:
        raise ConfigurationError(
            f"artifact folder {str(folder)!r} already has a card from {existing}, "
            f"and this run backtests {data}; pass another --out (out_dir) to keep "
            "that card"
        )
