"""The level forecaster that serves the nowcast and the backtest.

Both :func:`argus.assess.forecast_gauges` and ``argus backtest`` take their
forecaster from :func:`serving_forecaster`, so a backtest measures the model
that would warn villages. A forecaster has ``predict(history, *, issued_at,
lead_times_h)`` returning the columns of
:data:`models.baseline.FORECAST_COLUMNS`, with the serving model's name in
``model`` on every row.

Which one serves is set by ``ARGUS_LEVEL_MODEL_DIR``:

- empty (default): the newest artifact under ``models/artifacts/levels/``
  whose card marks it promoted, else the persistence-and-trend baseline;
- ``baseline``: the baseline;
- a folder: that artifact, even if its card says not promoted (an operator's
  explicit choice, logged as a warning).
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from models.baseline import PersistenceTrendForecaster

if TYPE_CHECKING:
    from argus.settings import Settings

logger = logging.getLogger(__name__)

ARTIFACT_ROOT = Path(__file__).with_name("artifacts") / "levels"
BASELINE_CHOICE = "baseline"


def serving_forecaster(settings: Settings):
    """Return the forecaster that serves now (see the module docstring).

    Raises
    ------
    ConfigurationError
        If ``ARGUS_LEVEL_MODEL_DIR`` names a folder without an artifact.
    """
    choice = settings.level_model_dir.strip()
    if choice == BASELINE_CHOICE:
        return PersistenceTrendForecaster()
    if choice:
        folder = Path(choice).expanduser().resolve()
        # Load first, so a folder that cannot serve fails with its own cause
        # instead of a warning about its card.
        forecaster = _load(folder)
        if not _card_promoted(folder):
            logger.warning(
                "level model %s is not promoted by its card; serving it because "
                "ARGUS_LEVEL_MODEL_DIR names it",
                folder,
            )
        return forecaster

    from models.level_forecaster import promoted_artifacts

    promoted = promoted_artifacts(ARTIFACT_ROOT)
    if not promoted:
        return PersistenceTrendForecaster()
    return _load(promoted[-1].resolve())


@functools.lru_cache(maxsize=4)
def _load(folder: Path):
    from models.level_forecaster import load_artifact

    forecaster = load_artifact(folder)
    logger.info("level forecaster %s loaded from %s", forecaster.name, folder)
    return forecaster


def _card_promoted(folder: Path) -> bool:
    try:
        return json.loads((folder / "card.json").read_text()).get("promoted") is True
    except (OSError, ValueError):
        return False
