"""The village flood-risk model: XGBoost on revenue-circle months.

:func:`fit` trains a binary classifier of ``flooded`` on the features of
:mod:`models.risk_data`. Every training row is also shown a second time with
the features in ``OPTIONAL_FEATURES`` missing. The trees so learn a path for
the live case without a rainfall product or a fresh satellite scene, because
XGBoost sends a missing value down the branch learnt for it. No training row
has rain missing but the flooded fraction known, as a cycle with a fresh scene
has them. The card scores that case separately.

:class:`RiskModel` is the trained artifact as the nowcast uses it: the
probability of flooding per village (``inplace_predict``) and the features
that pushed it most (XGBoost's ``pred_contribs``, in log-odds).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from argus.errors import InputError
from models.risk_data import FEATURES, OPTIONAL_FEATURES

logger = logging.getLogger(__name__)

MODEL_FILE = "model.ubj"
CARD_JSON = "card.json"
CARD_MARKDOWN = "card.md"
# The committed artifact that the nowcast loads unless configured otherwise.
DEFAULT_VERSION = "v1"
ARTIFACT_ROOT = Path(__file__).resolve().parent / "artifacts" / "risk"
# Shallow trees and a slow learning rate: a few hundred positive months.
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
    "max_depth": 3,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 3,
    "lambda": 1.0,
    "nthread": 1,
}
N_ROUNDS = 250
# A village counts as at high flood risk from this probability on.
HIGH_RISK_PROBABILITY = 0.5


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Return the columns ``FEATURES`` of ``frame`` as a float matrix (NaN = missing).

    Raises
    ------
    InputError
        When a feature column is absent.
    """
    missing = [name for name in FEATURES if name not in frame.columns]
    if missing:
        raise InputError(
            f"risk features lack column(s) {missing!r}; expected {list(FEATURES)!r}"
        )
    return frame.loc[:, list(FEATURES)].to_numpy(dtype="float32", na_value=np.nan)


def with_optional_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy ``frame`` with the optional features (rain, flooded fraction) missing."""
    return frame.assign(**{name: np.nan for name in OPTIONAL_FEATURES})


def fit(table: pd.DataFrame, *, seed: int) -> xgb.Booster:
    """Train the classifier on circle-months, with the live-missing copies added."""
    rows = pd.concat([table, with_optional_missing(table)], ignore_index=True)
    labels = rows["flooded"].to_numpy(dtype="float32")
    matrix = xgb.DMatrix(
        feature_matrix(rows), label=labels, missing=np.nan, feature_names=list(FEATURES)
    )
    params = {**PARAMS, "seed": seed}
    return xgb.train(params, matrix, num_boost_round=N_ROUNDS)


def predict_probability(booster: xgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    """Probability of flooding of each row [0..1]."""
    if len(frame) == 0:
        return np.zeros(0)
    return booster.inplace_predict(feature_matrix(frame), missing=np.nan)


@dataclass(frozen=True)
class RiskModel:
    """A trained risk model and the promotion facts from its card.

    Scoring is exact but done once per distinct *bin row*: a tree sends a
    value left when it is below the split, so two rows whose every feature
    lies between the same pair of the model's split values get the same
    probability and contributions. Villages of one gauge and one circle
    usually share a bin row, so 10^6 villages cost a few thousand predictions.
    """

    booster: xgb.Booster
    version: str
    promoted: bool
    high_risk_probability: float
    path: Path
    splits: tuple[np.ndarray, ...] = ()

    @classmethod
    def load(cls, path: Path | str) -> RiskModel:
        """Load an artifact folder written by :func:`models.risk_training.train`.

        Raises
        ------
        InputError
            When the folder lacks the model or card, or the card's feature
            list differs from this code's.
        """
        path = Path(path)
        try:
            card = json.loads((path / CARD_JSON).read_text(encoding="utf-8"))
            booster = xgb.Booster()
            booster.load_model(str(path / MODEL_FILE))
        except (OSError, ValueError, xgb.core.XGBoostError) as error:
            raise InputError(
                f"risk model {str(path)!r} cannot be loaded: {error}; train one "
                "with `argus train risk`"
            ) from error
        if card.get("features") != list(FEATURES):
            raise InputError(
                f"risk model {str(path)!r} was trained on features "
                f"{card.get('features')!r}, this code computes {list(FEATURES)!r}; "
                "retrain it with `argus train risk`"
            )
        # Training used one thread for the record; scoring uses every core.
        booster.set_param({"nthread": os.cpu_count() or 1})
        return cls(
            booster=booster,
            version=str(card["version"]),
            promoted=bool(card["promoted"]),
            high_risk_probability=float(card["high_risk_probability"]),
            path=path,
            splits=split_values(booster),
        )

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of flooding of each row of ``frame`` [0..1]."""
        matrix = feature_matrix(frame)
        if len(matrix) == 0:
            return np.zeros(0)
        first, inverse = self._distinct(matrix)
        return self.booster.inplace_predict(matrix[first], missing=np.nan)[inverse]

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Compute each feature's contribution to each row's log-odds.

        Returns an array of shape (rows, features + 1); the last column is the
        bias. A row's values add up to its log-odds.
        """
        matrix = feature_matrix(frame)
        if len(matrix) == 0:
            return np.zeros((0, len(FEATURES) + 1), dtype="float32")
        first, inverse = self._distinct(matrix)
        distinct = xgb.DMatrix(
            matrix[first], missing=np.nan, feature_names=list(FEATURES)
        )
        return self.booster.predict(distinct, pred_contribs=True)[inverse]

    def _distinct(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First row of each distinct bin row, and each row's bin row."""
        if not self.splits:
            return np.arange(len(matrix)), np.arange(len(matrix))
        bins = np.empty(matrix.shape, dtype=np.int16)
        for column, splits in enumerate(self.splits):
            values = matrix[:, column]
            # Bin 0 is missing; bin k + 1 has exactly k split values <= x.
            bins[:, column] = np.searchsorted(splits, values, side="right") + 1
            bins[np.isnan(values), column] = 0
        columns = list(range(bins.shape[1]))
        inverse = pd.DataFrame(bins).groupby(columns, sort=False).ngroup().to_numpy()
        # ngroup numbers the groups in order of first appearance.
        _, first = np.unique(inverse, return_index=True)
        return first, inverse


def split_values(booster: xgb.Booster) -> tuple[np.ndarray, ...]:
    """Sorted split values of each feature over all trees (float32)."""
    trees = booster.trees_to_dataframe()
    splits = trees[trees["Feature"] != "Leaf"]
    return tuple(
        np.unique(splits.loc[splits["Feature"] == name, "Split"].to_numpy("float32"))
        for name in FEATURES
    )


def default_artifact() -> Path:
    """Folder of the committed risk model."""
    return ARTIFACT_ROOT / DEFAULT_VERSION
