"""Risk model: training table, reproducible training, missing features, loading."""

import json

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from argus.errors import InputError
from models.risk import (
    MODEL_FILE,
    RiskModel,
    default_artifact,
    feature_matrix,
    fit,
    with_optional_missing,
)
from models.risk_data import FEATURES, OPTIONAL_FEATURES, build_training_table
from models.risk_training import (
    PROMOTION_RULE,
    _promotion,
    auc,
    brier,
    climatology,
    train,
)


def test_training_table_shape(training_table):
    assert len(training_table) == 180 * 64
    assert training_table["object_id"].nunique() == 180
    assert training_table["period"].min() == "2021-04"
    assert training_table["period"].max() == "2026-07"
    assert int(training_table["flooded"].sum()) == 794


def test_training_table_labels_by_source(training_table):
    sources = training_table["label_source"].value_counts().to_dict()
    assert sources == {"drims": 6296, "master": 5220, "asdma": 4}


def test_training_table_feature_units(training_table):
    known = training_table["flooded_fraction"].dropna()
    assert known.between(0, 1).all()
    levels = training_table["level_above_danger_m"].dropna()
    assert levels.between(-30, 10).all()
    # The 5,040 m entry error is dropped, not learnt from.
    assert len(levels) == 1251
    assert training_table["month_of_year"].between(1, 12).all()


def test_training_reproducible(table_cut, tmp_path):
    first = train(table_cut, tmp_path / "a", version="cut", seed=3)
    second = train(table_cut, tmp_path / "b", version="cut", seed=3)
    assert first == second
    model_a = (tmp_path / "a" / MODEL_FILE).read_bytes()
    model_b = (tmp_path / "b" / MODEL_FILE).read_bytes()
    assert model_a == model_b


def test_training_seed_changes_model(table_cut):
    one = fit(table_cut, seed=1).save_raw()
    two = fit(table_cut, seed=2).save_raw()
    assert one != two


def test_card_scores_both_splits(table_cut, tmp_path):
    card = train(table_cut, tmp_path / "m", version="cut", seed=0)
    on_disk = json.loads((tmp_path / "m" / "card.json").read_text())
    assert on_disk["version"] == "cut"
    for split in ("by_time", "by_area"):
        live = card["validation"][split]["live_features"]
        assert 0 <= live["model_auc"] <= 1
        assert live["baseline_brier"] > 0
    assert "Promot" in (tmp_path / "m" / "card.md").read_text()


def test_card_scores_live_with_satellite(table_cut, tmp_path):
    card = train(table_cut, tmp_path / "m", version="cut", seed=0)
    text = (tmp_path / "m" / "card.md").read_text()
    for split in ("by_time", "by_area"):
        scores = card["validation"][split]
        satellite = scores["live_satellite_features"]
        assert 0 <= satellite["model_auc"] <= 1
        assert satellite["model_brier"] != scores["live_features"]["model_brier"]
        assert 0 < scores["flooded_fraction_known"] < scores["rows"]
        assert f"| {split} | live with satellite | {scores['rows']} |" in text
    assert f"Rule: {PROMOTION_RULE}." in text


def test_promotion_ignores_satellite_rows():
    passing = {"model_brier": 0.04, "baseline_brier": 0.05}
    passing["brier_difference_p95"] = -0.001
    failing = {"model_brier": 0.06, "baseline_brier": 0.05}
    failing["brier_difference_p95"] = 0.02
    split = {"live_features": passing, "live_satellite_features": failing}
    promoted, _ = _promotion({"by_time": split, "by_area": split})
    assert promoted
    split = {"live_features": failing, "live_satellite_features": passing}
    promoted, reason = _promotion({"by_time": split, "by_area": split})
    assert not promoted
    assert "by_time: Brier 0.06 vs baseline 0.05" in reason


def test_missing_features_give_probabilities(small_model, table_cut):
    rows = table_cut.head(20).copy()
    for name in FEATURES:
        rows[name] = np.nan
    probability = small_model.probability(rows)
    assert probability.shape == (20,)
    assert np.isfinite(probability).all()
    assert ((probability > 0) & (probability < 1)).all()


def test_live_missing_differs_from_full(small_model, table_cut):
    rows = table_cut[table_cut["flooded_fraction"].notna()].head(50)
    live = rows.assign(**{name: np.nan for name in OPTIONAL_FEATURES})
    assert not np.allclose(small_model.probability(rows), small_model.probability(live))


def test_contributions_add_up_to_log_odds(small_model, table_cut):
    rows = table_cut.head(30)
    contributions = small_model.contributions(rows)
    assert contributions.shape == (30, len(FEATURES) + 1)
    probability = small_model.probability(rows)
    log_odds = np.log(probability / (1 - probability))
    np.testing.assert_allclose(contributions.sum(axis=1), log_odds, atol=1e-4)


def test_committed_model_loads():
    model = RiskModel.load(default_artifact())
    assert model.version == "v1"
    assert model.promoted
    assert model.high_risk_probability == 0.5


def test_load_missing_folder(tmp_path):
    with pytest.raises(InputError, match="cannot be loaded.*argus train risk"):
        RiskModel.load(tmp_path / "nothing")


def test_load_rejects_other_features(small_model, tmp_path):
    small_model.booster.save_model(str(tmp_path / MODEL_FILE))
    card = {"version": "x", "promoted": True, "high_risk_probability": 0.5}
    card["features"] = ["rain_mm_30d"]
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(InputError, match="trained on features.*retrain"):
        RiskModel.load(tmp_path)


def test_feature_matrix_names_missing_column(small_model, table_cut):
    with pytest.raises(InputError, match="embankment_km"):
        small_model.probability(table_cut.drop(columns="embankment_km"))


def test_auc_and_brier_hand_cases():
    labels = np.array([0, 0, 1, 1])
    assert auc(labels, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc(labels, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert auc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert brier(labels, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    assert brier(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.25


def test_climatology_unseen_circle_gets_month_share(table_cut):
    train_rows = table_cut[table_cut["period"] < "2024-01"]
    unseen = table_cut.head(3).assign(object_id="18-000-00000", period="2026-07")
    july = train_rows[train_rows["period"].str.endswith("-07")]["flooded"].mean()
    np.testing.assert_allclose(climatology(train_rows, unseen), july)


def test_binned_scoring_equals_plain(small_model, table_cut):
    rows = pd.concat([table_cut, with_optional_missing(table_cut)], ignore_index=True)
    matrix = feature_matrix(rows)
    plain = small_model.booster.inplace_predict(matrix, missing=np.nan)
    np.testing.assert_array_equal(small_model.probability(rows), plain)
    dmatrix = xgb.DMatrix(matrix, missing=np.nan, feature_names=list(FEATURES))
    contributions = small_model.booster.predict(dmatrix, pred_contribs=True)
    np.testing.assert_array_equal(small_model.contributions(rows), contributions)
    assert len(small_model._distinct(matrix)[0]) < len(rows)


def _linked_data(shared_data, tmp_path, *, skip=()):
    """A data folder of links to the recorded files, without those in ``skip``."""
    for source in shared_data.rglob("*"):
        relative = source.relative_to(shared_data)
        if source.is_dir() or relative.parts[0] not in (
            "revenue_circles",
            "asdma",
            "cwc_ffs",
            "geo",
        ):
            continue
        if str(relative) in skip or relative.parts[1:2] == ("snapshots",):
            continue
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
    return tmp_path


def test_table_missing_outcome_file(shared_data, exposure_data, tmp_path):
    folder = _linked_data(
        shared_data, tmp_path, skip={"revenue_circles/master_variables_monthly.csv"}
    )
    with pytest.raises(InputError, match="master_variables_monthly.csv.*not found"):
        build_training_table(folder, exposure_data)


def test_table_outcome_file_without_column(shared_data, exposure_data, tmp_path):
    relative = "revenue_circles/monthly/drims_population_affected_monthly_rc.csv"
    folder = _linked_data(shared_data, tmp_path, skip={relative})
    (folder / relative).write_text("object_id,timeperiod\n18-300-00101,2024_07\n")
    with pytest.raises(InputError, match="drims_population.*Population_affected_Total"):
        build_training_table(folder, exposure_data)


def test_table_without_asdma_reports(shared_data, exposure_data, tmp_path):
    reports = shared_data / "asdma" / "reports_2026"
    skip = {str(p.relative_to(shared_data)) for p in reports.iterdir()}
    folder = _linked_data(shared_data, tmp_path, skip=skip)
    with pytest.raises(InputError, match="no ASDMA circle reports match"):
        build_training_table(folder, exposure_data)
