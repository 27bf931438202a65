"""Training samples, the split and the seeded training of the level network.

The split holds out a share of the stations (never trained on, and left out
of the upstream graph) and the last share of the period (issue times at or
after ``split_at``). Training targets stop at ``validation_from``, a share of
the period before ``split_at``; the issue times of those hours are the validation set that picks
the epoch, so no target of the held-out time is ever seen in training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from models.level_net import (
    N_STATIC,
    LevelNetConfig,
    NetInputs,
    QuantileLSTM,
    build_inputs,
    pinball_loss,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """Which stations and issue times train, validate and test the model."""

    train_stations: list[str]
    held_out_stations: list[str]
    start: pd.Timestamp
    validation_from: pd.Timestamp
    split_at: pd.Timestamp
    end: pd.Timestamp

    def to_dict(self) -> dict:
        """The split as JSON-able values (times ISO 8601, UTC)."""
        return {
            "train_stations": self.train_stations,
            "held_out_stations": self.held_out_stations,
            "start": self.start.isoformat(),
            "validation_from": self.validation_from.isoformat(),
            "split_at": self.split_at.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class SampleSet:
    """Network inputs of (station, issue hour) samples and their truth.

    ``targets_m`` is the observed level at each lead minus the anchor [m], NaN
    where unobserved or outside the allowed period.
    """

    inputs: NetInputs
    targets_m: np.ndarray
    station_codes: np.ndarray
    issued_at: pd.DatetimeIndex
    window_m: np.ndarray


def split_period(
    table: pd.DataFrame,
    *,
    seed: int,
    held_out_station_share: float = 0.2,
    held_out_time_share: float = 0.3,
    validation_share: float = 0.15,
) -> Split:
    """Pick held-out stations at random (seeded) and the held-out last period.

    The validation hours are the ``validation_share`` of the period just
    before the held-out time.
    """
    codes = sorted(table.columns)
    rng = np.random.default_rng(seed)
    n_held = max(1, round(held_out_station_share * len(codes)))
    held = sorted(rng.choice(codes, size=n_held, replace=False).tolist())
    start, end = table.index.min(), table.index.max()
    split_at = (start + (end - start) * (1 - held_out_time_share)).floor("h")
    return Split(
        train_stations=[c for c in codes if c not in held],
        held_out_stations=held,
        start=start,
        validation_from=(split_at - (end - start) * validation_share).floor("h"),
        split_at=split_at,
        end=end,
    )


def make_samples(
    table: pd.DataFrame,
    *,
    station_codes: list[str],
    graph: dict[str, list[dict]],
    thresholds_m: pd.DataFrame,
    config: LevelNetConfig,
    issue_from: pd.Timestamp,
    issue_before: pd.Timestamp,
    targets_before: pd.Timestamp | None = None,
) -> SampleSet:
    """Cut every sample of the given stations and issue hours with a reading.

    Samples the network cannot serve (``inputs.usable`` false) are kept, so an
    evaluation can score the baseline that serves them instead; training
    takes :func:`served_only`.

    Parameters
    ----------
    table
        Hour x station levels from :func:`models.upstream.hourly_table` [m].
    thresholds_m
        ``warning_level_m`` and ``danger_level_m`` indexed by station code.
    issue_from, issue_before
        Issue hours in ``[issue_from, issue_before)``.
    targets_before
        Truth at or after this time is hidden (NaN); None hides nothing.
    """
    grid = table.to_numpy().T
    codes = list(table.columns)
    row_of = {code: i for i, code in enumerate(codes)}
    hours = table.index
    issue_cols = np.flatnonzero((hours >= issue_from) & (hours < issue_before))
    issue_cols = issue_cols[:: config.sample_every_h]
    rows = np.array([row_of[c] for c in station_codes if c in row_of], dtype=int)

    sample_rows = np.repeat(rows, len(issue_cols))
    sample_cols = np.tile(issue_cols, len(rows))
    inputs = cut_inputs(
        grid,
        codes=codes,
        rows=sample_rows,
        issue_cols=sample_cols,
        graph=graph,
        thresholds_m=thresholds_m,
        config=config,
    )
    keep = ~np.isnan(inputs.anchor_m)
    targets = _targets(grid, sample_rows, sample_cols, inputs.anchor_m, config)
    if targets_before is not None:
        cutoff_col = (targets_before - hours[0]) / pd.Timedelta(hours=1)
        valid_col = sample_cols[:, None] + np.arange(1, config.max_lead_h + 1)
        targets[valid_col >= cutoff_col] = np.nan
    window = _window(grid, sample_rows, sample_cols, config.window_h)
    return SampleSet(
        inputs=_subset(inputs, keep),
        targets_m=targets[keep],
        station_codes=np.asarray(codes, dtype=object)[sample_rows[keep]],
        issued_at=hours[sample_cols[keep]],
        window_m=window[keep],
    )


def served_only(samples: SampleSet) -> SampleSet:
    """Keep the samples the network serves."""
    keep = samples.inputs.usable
    return SampleSet(
        inputs=_subset(samples.inputs, keep),
        targets_m=samples.targets_m[keep],
        station_codes=samples.station_codes[keep],
        issued_at=samples.issued_at[keep],
        window_m=samples.window_m[keep],
    )


def cut_inputs(
    grid: np.ndarray,
    *,
    codes: list[str],
    rows: np.ndarray,
    issue_cols: np.ndarray,
    graph: dict[str, list[dict]],
    thresholds_m: pd.DataFrame,
    config: LevelNetConfig,
) -> NetInputs:
    """Network inputs for samples of a (station, hour) grid whose rows are ``codes``."""
    row_of = {code: i for i, code in enumerate(codes)}
    upstream = np.full((len(codes), config.n_upstream), -1, dtype=int)
    for code, edges in graph.items():
        if code not in row_of:
            continue
        linked = [
            row_of[e["station_code"]] for e in edges if e["station_code"] in row_of
        ]
        linked = linked[: config.n_upstream]
        upstream[row_of[code], : len(linked)] = linked
    limits = thresholds_m.reindex(codes)[["warning_level_m", "danger_level_m"]]
    return build_inputs(
        grid,
        rows=rows,
        issue_cols=issue_cols,
        upstream_rows=upstream[rows],
        thresholds_m=limits.to_numpy(dtype=float),
        config=config,
    )


def fit_network(
    train: SampleSet, validation: SampleSet, config: LevelNetConfig
) -> tuple[QuantileLSTM, list[dict]]:
    """Train with pinball loss; keep the epoch with the lowest validation loss.

    Seeded and deterministic: the same config and samples give the same
    weights. Torch is pinned to one thread while training.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(config.seed)
    try:
        return _fit(train, validation, config)
    finally:
        torch.set_num_threads(threads)


def _fit(train, validation, config):
    network = QuantileLSTM(
        config.n_channels, N_STATIC, config.max_lead_h, config.hidden_size
    )
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    tensors = _tensors(train, config)
    held = _tensors(validation, config)
    generator = torch.Generator().manual_seed(config.seed)
    best, best_state, log = np.inf, None, []
    for epoch in range(config.epochs):
        network.train()
        order = torch.randperm(len(tensors[0]), generator=generator)
        total = 0.0
        for batch in order.split(config.batch_size):
            optimiser.zero_grad()
            loss = pinball_loss(
                network(tensors[0][batch], tensors[1][batch]),
                tensors[2][batch],
                tensors[3][batch],
                config.quantiles,
            )
            loss.backward()
            optimiser.step()
            total += loss.detach().item() * len(batch)
        validation_loss = _loss(network, held, config)
        log.append(
            {
                "epoch": epoch + 1,
                "train_loss": round(total / max(len(order), 1), 5),
                "validation_loss": round(validation_loss, 5),
            }
        )
        if validation_loss < best:
            best = validation_loss
            best_state = {k: v.clone() for k, v in network.state_dict().items()}
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    logger.info(
        "trained %d epochs on %d samples; best validation loss %.4f",
        len(log),
        len(tensors[0]),
        best,
    )
    return network, log


def predict_quantiles(
    network: QuantileLSTM, inputs: NetInputs, config: LevelNetConfig
) -> np.ndarray:
    """Forecast levels (sample, lead, quantile) [m] from network inputs."""
    with torch.no_grad():
        scaled = network(
            torch.from_numpy(inputs.sequence), torch.from_numpy(inputs.static)
        ).numpy()
    change = inputs.prior_m[..., None] + config.scale_m * scaled.astype(float)
    return inputs.anchor_m[:, None, None] + change


def _loss(network, tensors, config) -> float:
    if len(tensors[0]) == 0:
        return float("nan")
    network.eval()
    with torch.no_grad():
        loss = pinball_loss(
            network(tensors[0], tensors[1]), tensors[2], tensors[3], config.quantiles
        )
    return float(loss)


def _tensors(samples: SampleSet, config: LevelNetConfig):
    target = (samples.targets_m - samples.inputs.prior_m) / config.scale_m
    mask = ~np.isnan(target)
    return (
        torch.from_numpy(samples.inputs.sequence),
        torch.from_numpy(samples.inputs.static),
        torch.from_numpy(np.nan_to_num(target).astype(np.float32)),
        torch.from_numpy(mask.astype(np.float32)),
    )


def _targets(grid, rows, cols, anchor, config) -> np.ndarray:
    leads = np.arange(1, config.max_lead_h + 1)
    padded = np.concatenate([grid, np.full((len(grid), config.max_lead_h), np.nan)], 1)
    return padded[rows[:, None], cols[:, None] + leads[None, :]] - anchor[:, None]


def _window(grid, rows, cols, window_h) -> np.ndarray:
    padded = np.concatenate([np.full((len(grid), window_h), np.nan), grid], axis=1)
    return padded[rows[:, None], cols[:, None] + 1 + np.arange(window_h)[None, :]]


def _subset(inputs: NetInputs, keep: np.ndarray) -> NetInputs:
    return NetInputs(
        sequence=inputs.sequence[keep],
        static=inputs.static[keep],
        anchor_m=inputs.anchor_m[keep],
        prior_m=inputs.prior_m[keep],
        age_h=inputs.age_h[keep],
        usable=inputs.usable[keep],
    )
