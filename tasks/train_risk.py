"""Tasks of the risk-model training: thin wrappers of ``argus.risk`` and ``models``."""

from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task

from argus.risk import training_table
from models.risk_training import train


@task
def build_table(data_dir: str) -> pd.DataFrame:
    """Build the circle-month training table (about 10^4 rows) of a data folder."""
    table = training_table(Path(data_dir))
    get_run_logger().info(
        "training table: %d circle-months, %d flooded",
        len(table),
        table["flooded"].sum(),
    )
    return table


@task
def train_and_write(table: pd.DataFrame, out_dir: str, version: str, seed: int) -> dict:
    """Validate, train and write the artifact; returns the card."""
    card = train(table, Path(out_dir), version=version, seed=seed)
    get_run_logger().info(
        "risk model %s: promoted %s (%s)",
        version,
        card["promoted"],
        card["promotion_reason"],
    )
    return card
