"""Fixtures of the model tests: one ingested cut of the snapshots per session."""

import pytest
import torch

from argus.level_history import ingest_snapshots, read_level_history
from tests.models.level_cut import CUT_SNAPSHOTS


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
