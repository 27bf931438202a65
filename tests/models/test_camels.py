"""The architecture's rainfall-runoff check on the four CAMELS-US basins."""

import numpy as np
import pytest

from argus.errors import InputError
from models.camels import CamelsConfig, nse, read_basin, run_camels_check


def test_nse_perfect_and_mean():
    observed = np.array([1.0, 2.0, 3.0, 4.0])

    assert nse(observed, observed) == 1.0
    assert nse(observed, np.full(4, observed.mean())) == 0.0


def test_read_basin_marks_missing_flow(shared_data):
    frame = read_basin(shared_data / "camels_us", "01022500")

    assert frame.index.min().year == 2000
    assert frame.index.max().year == 2002
    assert frame["q"].iloc[0] == 255.0
    assert (frame["q"].dropna() >= 0).all()


def test_camels_check_tiny_run(shared_data):
    config = CamelsConfig(sequence_days=30, hidden_size=8, epochs=1, batch_size=256)

    result = run_camels_check(shared_data / "camels_us", config=config)

    assert result["test_year"] == 2002
    assert result["train_years"] == [2000, 2001]
    assert set(result["nse"]) == {"01022500", "01547700", "02064000", "03015500"}
    assert all(np.isfinite(v) for v in result["nse"].values())


def test_camels_folder_without_basin_list_rejected(tmp_path):
    with pytest.raises(InputError, match="has no basin list 4_basins.txt"):
        run_camels_check(tmp_path)
