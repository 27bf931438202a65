"""The regression's artifact loads and serves; its card promotes only a winner."""

import json

import numpy as np
import pandas as pd
import pytest

from argus.errors import ConfigurationError
from argus.settings import Settings
from models.adaptive_regression import AdaptiveRegressionForecaster, RegressionConfig
from models.level_forecaster import load_artifact, promoted_artifacts
from models.regression_artifact import (
    evaluate,
    held_out_stations,
    load_regression,
    render_card,
    save_regression,
)
from models.serving import ARTIFACT_ROOT, serving_forecaster

START = pd.Timestamp("2026-08-01T00:00Z")


def _scored(argus_error_m) -> pd.DataFrame:
    """Ten stations, 40 issue hours, leads 1-24: truth 0, persistence off by 0.2 m.

    ``argus_error_m(lead_h, hour)`` gives ARGUS's error at each row.
    """
    rows = []
    for station in range(10):
        for hour in range(40):
            for lead in range(1, 25):
                error = argus_error_m(lead, hour)
                rows.append(
                    {
                        "station_code": f"S{station}",
                        "issued_at": (START + pd.Timedelta(hours=hour)).isoformat(),
                        "lead_h": lead,
                        "level_m": error,
                        "p10_m": error - 0.3,
                        "p90_m": error + 0.3,
                        "model": "upstream_regression-x",
                        "observed_m": 0.0,
                        "persistence_m": 0.2,
                    }
                )
    return pd.DataFrame(rows)


def _pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "station_code": ["S1", "S1", "S2"],
            "cwc_issued_at": [
                "2026-08-01T03:00Z",
                "2026-08-02T05:00Z",
                "2026-08-02T05:00Z",
            ],
            "cwc_m": [0.05, 0.02, 0.3],
            "argus_m": [0.1, 0.1, 0.1],
            "observed_m": [0.0, 0.0, 0.0],
        }
    )


def test_winner_everywhere_is_promoted():
    card = evaluate(
        _scored(lambda lead, hour: 0.1),
        _pairs(),
        holdout_from=START + pd.Timedelta(hours=28),
        seed=0,
        n_boot=50,
    )

    assert card["promoted"] is True
    table = card["sets"]["held_out_time"]["13-24"]
    assert table["argus"]["mae_m"] == pytest.approx(0.1)
    assert table["persistence"]["mae_m"] == pytest.approx(0.2)
    assert card["official"]["held_out_time"]["pairs"] == 2
    assert "Verdict: **promoted**" in render_card({**card, "name": "x"})


def test_lost_bucket_blocks_promotion():
    holdout_from = START + pd.Timedelta(hours=28)

    card = evaluate(
        _scored(lambda lead, hour: 0.3 if lead > 12 and hour >= 28 else 0.1),
        _pairs(),
        holdout_from=holdout_from,
        seed=0,
        n_boot=50,
    )

    assert card["promoted"] is False
    assert card["failures"]["held_out_stations"] == []
    [failure] = card["failures"]["held_out_time"]
    assert failure.startswith("13-24 h: MAE 0.300 m")
    assert "13-24 h: MAE 0.300 m" in render_card({**card, "name": "x"})


def test_held_out_stations_are_seeded_and_a_fifth():
    codes = [f"S{i}" for i in range(20)]

    assert held_out_stations(codes, 0) == held_out_stations(reversed(codes), 0)
    assert len(held_out_stations(codes, 0)) == 4
    assert held_out_stations(codes, 0) != held_out_stations(codes, 1)


def test_artifact_round_trip_and_serving(tmp_path):
    config = RegressionConfig(window_h=200)
    folder = save_regression(tmp_path, config, pd.Timestamp("2026-08-08"))
    again = save_regression(tmp_path, config, pd.Timestamp("2026-08-08"))
    (folder / "card.json").write_text(json.dumps({"promoted": True}))

    loaded = load_artifact(folder)
    served = serving_forecaster(Settings(level_model_dir=str(folder)))

    assert again == folder
    assert folder.name.startswith("20260808-")
    assert isinstance(loaded, AdaptiveRegressionForecaster)
    assert loaded.config == config
    assert served.name == f"upstream_regression-{folder.name}"
    assert promoted_artifacts(tmp_path) == [folder]


def test_unreadable_artifact_names_the_folder(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "model.json").write_text(
        json.dumps({"kind": "upstream_regression", "version": "v", "config": {"x": 1}})
    )

    with pytest.raises(ConfigurationError, match="broken.*cannot be loaded"):
        load_regression(folder)
    with pytest.raises(ConfigurationError, match="broken"):
        load_artifact(folder)


def test_scores_are_reproducible():
    scored = _scored(lambda lead, hour: 0.1 + 0.01 * np.sin(lead + hour))
    first = evaluate(scored, _pairs(), holdout_from=START, seed=3, n_boot=50)
    second = evaluate(scored, _pairs(), holdout_from=START, seed=3, n_boot=50)

    assert first == second


def test_committed_regression_serves_by_default(tmp_path):
    served = serving_forecaster(Settings(home=tmp_path))
    [folder] = [p for p in promoted_artifacts(ARTIFACT_ROOT) if p.name in served.name]
    card = json.loads((folder / "card.json").read_text())

    assert isinstance(served, AdaptiveRegressionForecaster)
    assert card["promoted"] is True
    assert card["failures"] == {"held_out_stations": [], "held_out_time": []}
