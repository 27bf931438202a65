"""Fixtures of the model tests: a cut of the snapshots for the level model, and
the real circles and a small trained model for the risk model."""

import pytest
import torch

from argus.exposure import load_exposure_data
from argus.level_history import ingest_snapshots, read_level_history
from models.level_pipeline import train_level_model
from models.risk import RiskModel
from models.risk_data import build_training_table
from models.risk_training import train
from tests.models.level_cut import CUT_SNAPSHOTS, tiny

# Three upper-Brahmaputra districts with floods in most monsoons: a cut that
# trains in about a second.
CUT_DISTRICTS = ("DHEMAJI", "DIBRUGARH", "LAKHIMPUR")


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


@pytest.fixture(scope="session")
def exposure_data(shared_data):
    return load_exposure_data(shared_data)


@pytest.fixture(scope="session")
def training_table(shared_data, exposure_data):
    return build_training_table(shared_data, exposure_data)


@pytest.fixture(scope="session")
def table_cut(training_table):
    cut = training_table[training_table["district"].isin(CUT_DISTRICTS)]
    assert cut["flooded"].sum() > 20, "the cut needs flooded months to learn from"
    return cut.reset_index(drop=True)


@pytest.fixture(scope="session")
def small_model(table_cut, tmp_path_factory) -> RiskModel:
    """A risk model trained on the cut, written and loaded like the committed one."""
    out = tmp_path_factory.mktemp("risk") / "cut"
    train(table_cut, out, version="cut", seed=0)
    return RiskModel.load(out)
