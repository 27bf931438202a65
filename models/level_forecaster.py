"""The trained level forecaster behind the baseline's interface, and its artifact.

An artifact is a folder ``<version>/`` holding ``weights.pt`` (the network's
state dict), ``model.json`` (config with its normalisation, upstream graph,
station thresholds, data period) and the model card (``card.md``,
``card.json``). The version is the last day of the training data and the
first 8 hex digits of the SHA-256 of the weights, so the same training gives
the same version.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from argus.errors import ConfigurationError
from models.baseline import PersistenceTrendForecaster, hourly_grid, overwrite_rows
from models.level_net import N_STATIC, LevelNetConfig, QuantileLSTM
from models.level_training import cut_inputs, predict_quantiles

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.pt"
MODEL_FILE = "model.json"
CARD_JSON = "card.json"
MODEL_PREFIX = "level_lstm"
# ``kind`` of an artifact holding the adaptive regression, not a network.
REGRESSION_KIND = "upstream_regression"


@dataclass
class LevelForecaster:
    """Quantile LSTM forecasts where a station has enough recent readings.

    Stations with fewer than ``config.min_readings`` hourly readings in the
    last ``config.window_h`` hours, or none in the last ``config.max_age_h``,
    get the baseline's forecast, and their ``model`` column names the baseline.
    """

    network: QuantileLSTM
    config: LevelNetConfig
    graph: dict[str, list[dict]]
    thresholds_m: pd.DataFrame
    version: str
    fallback: PersistenceTrendForecaster = field(
        default_factory=PersistenceTrendForecaster
    )

    @property
    def name(self) -> str:
        """Model name written in the ``model`` column: prefix and version."""
        return f"{MODEL_PREFIX}-{self.version}"

    def predict(
        self,
        history: pd.DataFrame,
        *,
        issued_at: datetime,
        lead_times_h: Iterable[int] = range(1, 25),
        stations: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast every gauge with a recent reading, as the baseline does.

        Parameters and returned columns are those of
        :meth:`models.baseline.PersistenceTrendForecaster.predict`.

        Raises
        ------
        ValueError
            If a lead time is outside 1..``config.max_lead_h`` hours.
        """
        leads = np.asarray(list(lead_times_h), dtype="int64")
        outside = leads[(leads < 1) | (leads > self.config.max_lead_h)]
        if outside.size:
            raise ValueError(
                f"lead time {int(outside[0])} h is outside the trained "
                f"1..{self.config.max_lead_h} h; ask for leads in that range"
            )
        frame = self.fallback.predict(history, issued_at=issued_at, lead_times_h=leads)
        if frame.empty:
            return frame

        grid = hourly_grid(history, issued_at=issued_at, window_h=self.config.window_h)
        codes = list(grid.station_codes)
        inputs = cut_inputs(
            grid.levels_m,
            codes=codes,
            rows=np.arange(len(codes)),
            issue_cols=np.full(len(codes), grid.levels_m.shape[1] - 1),
            graph=self.graph,
            thresholds_m=self.thresholds_m,
            config=self.config,
        )
        served = np.flatnonzero(inputs.usable)
        if served.size:
            quantiles = predict_quantiles(
                self.network, _take(inputs, served), self.config
            )
            picked = quantiles[:, leads - 1, :]
            frame = overwrite_rows(
                frame, np.asarray(codes)[served], leads, picked, self.name
            )
        logger.info(
            "%s served %d of %d stations; the rest fell back to %s",
            self.name,
            served.size,
            len(codes),
            self.fallback.name,
        )
        return frame


def _take(inputs, rows):
    return type(inputs)(
        sequence=inputs.sequence[rows],
        static=inputs.static[rows],
        anchor_m=inputs.anchor_m[rows],
        prior_m=inputs.prior_m[rows],
        age_h=inputs.age_h[rows],
        usable=inputs.usable[rows],
    )


def save_artifact(
    folder: Path,
    *,
    network: QuantileLSTM,
    config: LevelNetConfig,
    graph: dict[str, list[dict]],
    thresholds_m: pd.DataFrame,
    data_end: pd.Timestamp,
    extra: dict,
) -> Path:
    """Write weights and model file under ``folder/<version>/``; returns that path."""
    buffer = io.BytesIO()
    torch.save(network.state_dict(), buffer)
    weights = buffer.getvalue()
    version = f"{data_end:%Y%m%d}-{hashlib.sha256(weights).hexdigest()[:8]}"
    target = Path(folder) / version
    target.mkdir(parents=True, exist_ok=True)
    (target / WEIGHTS_FILE).write_bytes(weights)
    limits = thresholds_m[["warning_level_m", "danger_level_m"]].dropna(how="all")
    model = {
        "version": version,
        "name": f"{MODEL_PREFIX}-{version}",
        "config": config.to_dict(),
        "upstream_graph": graph,
        "thresholds_m": {
            code: [_json_float(w), _json_float(d)] for code, (w, d) in limits.iterrows()
        },
        **extra,
    }
    (target / MODEL_FILE).write_text(json.dumps(model, indent=1, sort_keys=True))
    return target


# Next step for an operator whose level model folder cannot be served.
_ARTIFACT_HINT = (
    "point ARGUS_LEVEL_MODEL_DIR at a folder written by `argus train levels` or "
    "`argus train regression`, or set it to `baseline`"
)


def load_artifact(folder: Path):
    """Load the forecaster of an artifact folder.

    Raises
    ------
    ConfigurationError
        If the folder lacks the weights or the model file, or they do not fit.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigurationError(
            f"level model folder {str(folder)!r} not found; {_ARTIFACT_HINT}"
        )
    if _kind(folder) == REGRESSION_KIND:
        from models.regression_artifact import load_regression

        return load_regression(folder)
    missing = [n for n in (WEIGHTS_FILE, MODEL_FILE) if not (folder / n).is_file()]
    if missing:
        raise ConfigurationError(
            f"level model folder {str(folder)!r} lacks {', '.join(missing)}; "
            f"{_ARTIFACT_HINT}"
        )
    try:
        model = json.loads((folder / MODEL_FILE).read_text())
        config = LevelNetConfig.from_dict(model["config"])
        network = QuantileLSTM(
            config.n_channels, N_STATIC, config.max_lead_h, config.hidden_size
        )
        state = torch.load(folder / WEIGHTS_FILE, weights_only=True)
        network.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError) as error:
        raise ConfigurationError(
            f"level model in {str(folder)!r} cannot be loaded: {error}; "
            "retrain it with `argus train levels`"
        ) from error
    network.eval()
    thresholds = pd.DataFrame.from_dict(
        model["thresholds_m"],
        orient="index",
        columns=["warning_level_m", "danger_level_m"],
        dtype=float,
    )
    return LevelForecaster(
        network=network,
        config=config,
        graph=model["upstream_graph"],
        thresholds_m=thresholds,
        version=model["version"],
    )


def promoted_artifacts(root: Path) -> list[Path]:
    """Artifact folders under ``root`` whose card marks them promoted, newest last."""
    if not Path(root).is_dir():
        return []
    found = []
    for card in sorted(Path(root).glob(f"*/{CARD_JSON}")):
        try:
            promoted = json.loads(card.read_text()).get("promoted") is True
        except (OSError, ValueError) as error:
            logger.warning("model card %s skipped: %s", card, error)
            continue
        if promoted:
            found.append(card.parent)
    return found


def _kind(folder: Path) -> str | None:
    """Return the ``kind`` in an artifact's model file: None for the LSTM or no file.

    Raises
    ------
    ConfigurationError
        If the model file exists but is not a JSON object.
    """
    path = folder / MODEL_FILE
    if not path.is_file():
        return None
    try:
        model = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigurationError(
            f"level model file {str(path)!r} cannot be read: {error}; {_ARTIFACT_HINT}"
        ) from error
    if not isinstance(model, dict):
        raise ConfigurationError(
            f"level model file {str(path)!r} is not a JSON object; {_ARTIFACT_HINT}"
        )
    return model.get("kind")


def _json_float(value) -> float | None:
    return None if pd.isna(value) else float(value)
