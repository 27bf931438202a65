"""Fixtures of the model tests: one ingested cut of the snapshots per session."""

import pytest
import torch

from argus.level_history import ingest_snapshots, read_level_history
from models.level_pipeline import train_level_model
from tests.models.level_cut import CUT_SNAPSHOTS, tiny


@pytest.fixture(scope="session")
def level_cut(shared_data, tmp_path_factory):
    """Accepted levels, stations and CWC forecasts of the first snapshot times."""
    torch.set_num_threads(1)
    database = tmp_path_factory.mktemp("level_cut") / "levels.db"
    ingest_snapshots(
        shared_data / "cwc_ffs" / "snapshots",
        database_path=database,
        max_snapshots=CUT_SNAPSHOTS,
    )
    return read_level_history(database)


@pytest.fixture(scope="session")
def trained(level_cut, tmp_path_factory):
    """A tiny level model trained on the cut, with its artifact and card."""
    return train_level_model(
        level_cut.levels,
        level_cut.stations,
        level_cut.official,
        out_dir=tmp_path_factory.mktemp("levels"),
        config=tiny(),
        n_boot=50,
    )
