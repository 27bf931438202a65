"""Village flood risk in the nowcast: load the serving model, score, combine.

Library steps behind ``argus villages exposure``, ``argus train risk`` and the
risk part of each cycle; the Prefect flow and the CLI only call these.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import xarray as xr

from argus.errors import InputError
from argus.exposure import load_exposure_data, village_exposure
from argus.settings import Settings
from argus.storage.db import session_scope
from argus.storage.exposure import load_exposure, store_exposure
from argus.storage.villages import load_villages
from models.risk import RiskModel, default_artifact
from models.risk_data import build_training_table
from models.risk_levels import combine_levels, live_risk_features

logger = logging.getLogger(__name__)


def compute_exposure(engine: sa.Engine, data_dir: Path) -> int:
    """Compute and store the exposure of every stored village; returns the count.

    Raises
    ------
    InputError
        When no village is stored, or the data folder lacks a file.
    """
    data = load_exposure_data(data_dir)
    with session_scope(engine) as session:
        villages = load_villages(session)
    if villages.empty:
        raise InputError(
            "no villages are stored; import them first with `argus villages import`"
        )
    exposure = village_exposure(villages, data)
    with session_scope(engine) as session:
        return store_exposure(session, exposure)


def training_table(data_dir: Path) -> pd.DataFrame:
    """Build the circle-month training table of a data folder."""
    if not Path(data_dir).is_dir():
        raise InputError(f"data folder {str(data_dir)!r} not found")
    return build_training_table(data_dir, load_exposure_data(data_dir))


def serving_model(settings: Settings) -> RiskModel | None:
    """Load the risk model the cycle uses, or return None (disabled, not promoted).

    Raises
    ------
    InputError
        When the configured artifact cannot be loaded.
    """
    if not settings.risk_model_enabled:
        return None
    path = Path(settings.risk_model_dir) if settings.risk_model_dir else None
    model = RiskModel.load(path or default_artifact())
    if not model.promoted:
        logger.warning(
            "risk model %s at %s is not promoted (card.md gives the reason); village "
            "levels follow the CWC rules alone",
            model.version,
            model.path,
        )
        return None
    return model


def apply_risk(
    engine: sa.Engine,
    levels: pd.DataFrame,
    features: xr.Dataset,
    *,
    cycle_at: datetime,
    settings: Settings,
) -> pd.DataFrame:
    """Combine the levels with the serving risk model; unchanged without one."""
    model = serving_model(settings)
    if model is None or levels.empty:
        return levels
    with session_scope(engine) as session:
        exposure = load_exposure(session)
    if exposure.empty:
        logger.warning(
            "no village exposure stored; the risk model runs without it "
            "(compute it with `argus villages exposure`)"
        )
    risk_features = live_risk_features(features, exposure, now=cycle_at)
    return combine_levels(
        levels, risk_features, model, near_warning_m=settings.risk_near_warning_m
    )
