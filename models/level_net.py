"""The quantile LSTM and the station-agnostic inputs of the level forecaster.

Every input is relative, so the network can serve a station it never saw:

- the station's own levels over the last ``window_h`` hours minus its last
  reading (the anchor), with a mask channel for missing hours;
- the same for each upstream gauge (minus that gauge's own last reading);
- static values: hours since the last reading, the anchor against the
  warning and danger levels where the station has them, and the baseline's
  trend.

Levels are divided by ``scale_m`` (the spread of 24 h changes in the training
data). With ``baseline_prior`` the network predicts, at each lead time, the
correction to the persistence-and-trend baseline's change from the anchor
(its damped Theil-Sen trend, see :mod:`models.baseline`), as three quantiles.
A freshly initialised network gives small corrections, so training starts
near the baseline. Without it the network predicts the change from the
anchor itself. p10 <= p50 <= p90 is true by construction because the outer quantiles
are the median minus and plus a softplus.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from models.baseline import PersistenceTrendForecaster, theil_sen_slope

QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class LevelNetConfig:
    """Inputs, network size and training of the level forecaster."""

    # Hours of history the network reads [h].
    window_h: int = 48
    # Upstream gauges read per station.
    n_upstream: int = 2
    # Leads 1..max_lead_h are forecast [h].
    max_lead_h: int = 24
    # LSTM state size.
    hidden_size: int = 32
    # A station needs this many hourly readings in the window to be served.
    min_readings: int = 12
    # A station whose last reading is older than this falls back [h].
    max_age_h: int = 6
    # Divisor of level differences; set from the training data [m].
    scale_m: float = 0.5
    # Divisor of the anchor's distance to warning and danger level [m].
    threshold_scale_m: float = 2.0
    # Whether the network corrects the baseline's trend (True) or predicts
    # the change from the last reading on its own (False). False had the lower
    # validation loss on the recorded fortnight (0.336 against 0.339).
    baseline_prior: bool = False
    seed: int = 0
    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    # Training samples are issue hours this many hours apart [h].
    sample_every_h: int = 1
    quantiles: tuple[float, ...] = field(default=QUANTILES)

    def to_dict(self) -> dict:
        """The config as JSON-able values."""
        return {**asdict(self), "quantiles": list(self.quantiles)}

    @classmethod
    def from_dict(cls, values: dict) -> LevelNetConfig:
        """Build a config from :meth:`to_dict` output."""
        return cls(**{**values, "quantiles": tuple(values["quantiles"])})

    @property
    def n_channels(self) -> int:
        return 2 + 2 * self.n_upstream


N_STATIC = 6


class QuantileLSTM(nn.Module):
    """LSTM over a sequence, then a head giving three ordered quantiles per output.

    Parameters
    ----------
    n_channels
        Inputs per time step.
    n_static
        Inputs per sample that do not vary in time.
    n_outputs
        Outputs (lead times) per sample.
    hidden_size
        LSTM state size.
    """

    def __init__(
        self, n_channels: int, n_static: int, n_outputs: int, hidden_size: int
    ) -> None:
        super().__init__()
        self.n_outputs = n_outputs
        self.lstm = nn.LSTM(n_channels, hidden_size, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(hidden_size + n_static, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, n_outputs * 3),
        )

    def forward(self, sequence: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        """Return quantiles of shape (batch, n_outputs, 3): p10, p50, p90."""
        states, _ = self.lstm(sequence)
        raw = self.head(torch.cat([states[:, -1], static], dim=1))
        raw = raw.view(-1, self.n_outputs, 3)
        median = raw[..., 0]
        low = median - nn.functional.softplus(raw[..., 1])
        high = median + nn.functional.softplus(raw[..., 2])
        return torch.stack([low, median, high], dim=-1)


def pinball_loss(
    predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, quantiles
) -> torch.Tensor:
    """Mean pinball (quantile) loss over the unmasked targets.

    ``predicted`` is (batch, n_outputs, n_quantiles), ``target`` and ``mask``
    (batch, n_outputs); Koenker and Bassett (1978).
    """
    q = torch.tensor(quantiles, dtype=predicted.dtype)
    error = target.unsqueeze(-1) - predicted
    loss = torch.maximum(q * error, (q - 1) * error).sum(-1)
    return (loss * mask).sum() / mask.sum().clamp(min=1)


@dataclass(frozen=True)
class NetInputs:
    """Inputs of N samples and what they are relative to.

    ``prior_m`` (N, lead) is the baseline's change from the anchor [m];
    ``usable`` marks samples with enough recent readings to be served.
    """

    sequence: np.ndarray
    static: np.ndarray
    anchor_m: np.ndarray
    prior_m: np.ndarray
    age_h: np.ndarray
    usable: np.ndarray


def build_inputs(
    grid: np.ndarray,
    *,
    rows: np.ndarray,
    issue_cols: np.ndarray,
    upstream_rows: np.ndarray,
    thresholds_m: np.ndarray,
    config: LevelNetConfig,
) -> NetInputs:
    """Cut the network inputs of N (station, issue hour) samples from a grid.

    Parameters
    ----------
    grid
        Hourly levels (station, hour), NaN where missing [m].
    rows, issue_cols
        Station row and issue-hour column of each sample.
    upstream_rows
        (N, n_upstream) rows of the upstream gauges; -1 where none.
    thresholds_m
        (station, 2) warning and danger level, NaN where unknown [m].
    config
        Window and scales.
    """
    window = config.window_h
    padded = np.concatenate([np.full((len(grid), window), np.nan), grid], axis=1)
    padded = np.concatenate([padded, np.full((1, padded.shape[1]), np.nan)])
    cols = issue_cols[:, None] + 1 + np.arange(window)[None, :]

    own = padded[rows[:, None], cols]
    anchor, age, count = _anchor(own)
    channels = _relative(own, anchor, config.scale_m)
    for k in range(config.n_upstream):
        upstream = padded[upstream_rows[:, k][:, None], cols]
        channels += _relative(upstream, _anchor(upstream)[0], config.scale_m)
    sequence = np.stack(channels, axis=-1).astype(np.float32)

    limits = thresholds_m[rows]
    distance = (anchor[:, None] - limits) / config.threshold_scale_m
    slope, prior = _baseline_change(own, age, config.max_lead_h)
    if not config.baseline_prior:
        prior = np.zeros_like(prior)
    static = np.column_stack(
        [
            np.nan_to_num(age, nan=window) / 24.0,
            np.tanh(np.nan_to_num(distance, nan=0.0)),
            (~np.isnan(limits)).astype(float),
            24.0 * slope / config.scale_m,
        ]
    ).astype(np.float32)
    usable = (count >= config.min_readings) & (age <= config.max_age_h)
    return NetInputs(sequence, static, anchor, prior, age, usable)


def _baseline_change(
    own: np.ndarray, age: np.ndarray, max_lead_h: int
) -> tuple[np.ndarray, np.ndarray]:
    """The baseline's trend [m/h] and its change from the anchor per lead [m]."""
    baseline = PersistenceTrendForecaster()
    slope = np.nan_to_num(theil_sen_slope(own[:, -baseline.trend_window_h :]))
    steps = np.nan_to_num(age)[:, None] + np.arange(1, max_lead_h + 1)[None, :]
    phi = baseline.damping
    gain = phi * (1 - phi**steps) / (1 - phi)
    return slope, slope[:, None] * gain


def _anchor(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last reading of each row, its age in hours and the readings counted."""
    present = ~np.isnan(levels)
    count = present.sum(axis=1)
    last_col = levels.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
    anchor = np.where(count > 0, levels[np.arange(len(levels)), last_col], np.nan)
    age = np.where(count > 0, levels.shape[1] - 1 - last_col, np.nan)
    return anchor, age.astype(float), count


def _relative(levels: np.ndarray, anchor: np.ndarray, scale_m: float) -> list:
    present = ~np.isnan(levels)
    relative = np.where(present, (levels - anchor[:, None]) / scale_m, 0.0)
    return [relative, present.astype(float)]
