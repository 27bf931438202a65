"""Train the level forecaster: ingest, train, evaluate, card, promote or not.

A run ingests the recorded snapshots through the data contracts into a
scratch database, trains the quantile LSTM on the training stations and
period, scores it on held-out time and held-out stations against persistence
and CWC, and writes a versioned artifact whose card states whether it is
promoted. The same seed gives the same weights and version.
"""

from pathlib import Path

from prefect import flow

from tasks import train_levels as steps


@flow(name="train-levels", log_prints=True)
def train_levels(
    replay_dir: str,
    out_dir: str,
    work_dir: str,
    seed: int = 0,
    epochs: int = 30,
    camels_dir: str | None = None,
    max_snapshots: int | None = None,
) -> dict:
    """Train and evaluate one level forecaster; returns its folder and verdict."""
    database = str(Path(work_dir) / "level_history.db")
    quarantined = steps.ingest_snapshots_task(replay_dir, database, max_snapshots)
    result = steps.train_and_evaluate(
        database,
        out_dir,
        {"seed": seed, "epochs": epochs},
        {"snapshots": _short_name(replay_dir), "quarantined_by_rule": quarantined},
    )
    if camels_dir:
        steps.camels_check(camels_dir, result["folder"], seed)
    steps.publish_card(result["folder"])
    return result


def _short_name(folder: str) -> str:
    """Last two parts of a folder path: where the data came from, not whose disk."""
    path = Path(folder).resolve()
    return f"{path.parent.name}/{path.name}"
