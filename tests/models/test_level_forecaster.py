"""The trained level forecaster: training, serving, fallback and its artifact."""

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import torch

from argus.errors import ConfigurationError
from models.baseline import PersistenceTrendForecaster
from models.level_forecaster import load_artifact
from models.level_pipeline import train_level_model
from models.level_training import fit_network, make_samples, served_only, split_period
from models.serving import serving_forecaster
from models.upstream import hourly_table
from tests.models.level_cut import tiny


def _issue_time(level_cut):
    return level_cut.levels["observed_at"].max() + timedelta(minutes=10)


def _samples(level_cut, config):
    table = hourly_table(level_cut.levels)
    split = split_period(table, seed=config.seed)
    thresholds = level_cut.stations.set_index("station_code")
    cut = {
        "table": table,
        "graph": {},
        "thresholds_m": thresholds[["warning_level_m", "danger_level_m"]],
        "config": config,
        "station_codes": split.train_stations,
    }
    train = make_samples(
        issue_from=split.start,
        issue_before=split.validation_from,
        targets_before=split.validation_from,
        **cut,
    )
    validation = make_samples(
        issue_from=split.validation_from, issue_before=split.split_at, **cut
    )
    return served_only(train), served_only(validation)


def test_training_same_seed_same_weights(level_cut):
    config = tiny(epochs=1)
    train, validation = _samples(level_cut, config)
    torch.set_num_threads(2)
    try:
        first, _ = fit_network(train, validation, config)
        threads_after = torch.get_num_threads()
    finally:
        torch.set_num_threads(1)
    second, _ = fit_network(train, validation, config)
    other, _ = fit_network(train, validation, tiny(epochs=1, seed=4))

    for name, weights in first.state_dict().items():
        assert torch.equal(weights, second.state_dict()[name]), name
    assert not torch.equal(
        first.state_dict()["lstm.weight_ih_l0"], other.state_dict()["lstm.weight_ih_l0"]
    )
    assert threads_after == 2


def test_quantiles_ordered(trained, level_cut):
    forecaster = load_artifact(trained.folder)
    frame = forecaster.predict(level_cut.levels, issued_at=_issue_time(level_cut))

    assert (frame["p10_m"] <= frame["p50_m"]).all()
    assert (frame["p50_m"] <= frame["p90_m"]).all()
    assert (frame["model"] == forecaster.name).any()


def test_unseen_station_short_history_falls_back(trained, level_cut):
    forecaster = load_artifact(trained.folder)
    issued_at = _issue_time(level_cut)
    newcomer = pd.DataFrame(
        {
            "station_code": "999-NEWSTN",
            "observed_at": [issued_at - timedelta(hours=h) for h in (1, 2, 3)],
            "level_m": [50.0, 50.1, 50.2],
        }
    )
    history = pd.concat([level_cut.levels, newcomer], ignore_index=True)

    frame = forecaster.predict(history, issued_at=issued_at)
    new_rows = frame[frame["station_code"] == "999-NEWSTN"]

    assert len(new_rows) == 24
    assert set(new_rows["model"]) == {PersistenceTrendForecaster.name}
    assert (frame["model"] == forecaster.name).sum() > 0


def test_unseen_station_long_history_served(trained, level_cut):
    forecaster = load_artifact(trained.folder)
    issued_at = _issue_time(level_cut)
    hours = range(1, 13)
    newcomer = pd.DataFrame(
        {
            "station_code": "998-NEWSTN",
            "observed_at": [issued_at - timedelta(hours=h) for h in hours],
            "level_m": [60.0 - 0.02 * h for h in hours],
        }
    )
    history = pd.concat([level_cut.levels, newcomer], ignore_index=True)

    frame = forecaster.predict(history, issued_at=issued_at)
    new_rows = frame[frame["station_code"] == "998-NEWSTN"]

    assert set(new_rows["model"]) == {forecaster.name}
    assert new_rows["p50_m"].between(55.0, 65.0).all()


def test_artifact_round_trip(trained, level_cut):
    issued_at = _issue_time(level_cut)
    first = load_artifact(trained.folder)
    second = load_artifact(trained.folder)
    model = json.loads((trained.folder / "model.json").read_text())

    a = first.predict(level_cut.levels, issued_at=issued_at)
    b = second.predict(level_cut.levels, issued_at=issued_at)

    pd.testing.assert_frame_equal(a, b)
    assert model["version"] == trained.folder.name
    assert first.config == tiny(scale_m=model["config"]["scale_m"])
    assert first.graph == model["upstream_graph"]
    assert (trained.folder / "card.md").is_file()


def test_same_seed_same_version(trained, level_cut, tmp_path):
    again = train_level_model(
        level_cut.levels,
        level_cut.stations,
        level_cut.official,
        out_dir=tmp_path,
        config=tiny(),
        n_boot=50,
    )

    assert again.folder.name == trained.folder.name
    assert again.card["metrics"] == trained.card["metrics"]


def test_promotion_refused_when_losing(level_cut, tmp_path):
    # A learning rate this large throws the weights far off in one epoch.
    result = train_level_model(
        level_cut.levels,
        level_cut.stations,
        level_cut.official,
        out_dir=tmp_path,
        config=tiny(epochs=1, learning_rate=50.0),
        n_boot=50,
    )
    card = json.loads((result.folder / "card.json").read_text())

    assert result.promoted is False
    assert card["promoted"] is False
    assert any("persistence" in reason for reason in card["not_promoted_because"])
    assert "NOT promoted" in (result.folder / "card.md").read_text()


def test_serving_default_is_baseline_without_promoted(tmp_path, monkeypatch):
    from argus.settings import Settings
    from models import serving

    monkeypatch.setattr(serving, "ARTIFACT_ROOT", tmp_path / "none")
    forecaster = serving_forecaster(Settings(home=tmp_path))

    assert isinstance(forecaster, PersistenceTrendForecaster)


def test_serving_baseline_choice(tmp_path):
    from argus.settings import Settings

    settings = Settings(home=tmp_path, level_model_dir="baseline")

    assert isinstance(serving_forecaster(settings), PersistenceTrendForecaster)


def test_serving_missing_artifact_rejected(tmp_path):
    from argus.settings import Settings

    settings = Settings(home=tmp_path, level_model_dir=str(tmp_path / "absent"))

    with pytest.raises(ConfigurationError, match="absent' not found"):
        serving_forecaster(settings)


def test_lead_outside_trained_range_rejected(trained, level_cut):
    forecaster = load_artifact(trained.folder)

    with pytest.raises(ValueError, match="lead time 25 h is outside"):
        forecaster.predict(
            level_cut.levels, issued_at=_issue_time(level_cut), lead_times_h=[1, 25]
        )


def test_card_lists_both_held_out_sets(trained):
    card = trained.card

    assert set(card["metrics"]) == {"held_out_time", "held_out_stations"}
    for part in card["metrics"].values():
        assert set(part["buckets"]) == {"1-6", "7-12", "13-24"}
    assert card["split"]["held_out_stations"]
    assert not set(card["split"]["held_out_stations"]) & set(
        card["split"]["train_stations"]
    )
    assert np.isfinite(card["training_log"][-1]["validation_loss"])
