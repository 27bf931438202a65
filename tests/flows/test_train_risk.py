"""The risk training flow reproduces the committed model from the recorded data."""

import pytest

from flows.train_risk import train_risk
from models.risk import CARD_JSON, MODEL_FILE, default_artifact


@pytest.mark.usefixtures("prefect_harness")
def test_flow_reproduces_committed_model(shared_data, tmp_path):
    summary = train_risk(data_dir=str(shared_data), out_dir=str(tmp_path), seed=0)

    committed = default_artifact()
    assert summary["version"] == "v1"
    assert summary["promoted"] is True
    assert (tmp_path / CARD_JSON).read_text() == (committed / CARD_JSON).read_text()
    assert (tmp_path / MODEL_FILE).read_bytes() == (committed / MODEL_FILE).read_bytes()
