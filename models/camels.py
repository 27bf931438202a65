"""Check the level forecaster's architecture on CAMELS-US rainfall-runoff data.

The same :class:`models.level_net.QuantileLSTM` reads ``sequence_days`` of
basin-mean Daymet forcing and gives p10/p50/p90 of that day's streamflow
(simulation: no observed streamflow among the inputs). It trains on all
basins but the last year, which is held out, and reports the Nash-Sutcliffe
efficiency (NSE) of the median per basin.

Streamflow is divided by each basin's mean flow in the training years, so the
loss weighs basins alike; forcings are standardised with the training years'
means and standard deviations. The files are in the CAMELS-US layout (Newman
et al. 2014): ``basin_mean_forcing/daymet/<basin>_lump_cida_forcing_leap.txt``
and ``usgs_streamflow/<basin>_streamflow_qc.txt``, with -999 for missing flow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from argus.errors import InputError
from models.level_net import QuantileLSTM, pinball_loss

logger = logging.getLogger(__name__)

FORCINGS = [
    "dayl(s)",
    "prcp(mm/day)",
    "srad(W/m2)",
    "swe(mm)",
    "tmax(C)",
    "tmin(C)",
    "vp(Pa)",
]
PUBLISHED_NOTE = (
    "Published reference: an LSTM tested on CAMELS-US basins left out of its "
    "training (k-fold over 531 basins, about 15 years of validation) reached a "
    "median NSE of 0.69 (Kratzert et al. 2019, Water Resources Research, "
    "'Toward improved predictions in ungauged basins'). That is a different and "
    "far larger sample trained on decades of data; these are 4 basins with 2 "
    "training years, so the figures are not comparable one to one."
)


@dataclass(frozen=True)
class CamelsConfig:
    """Sequence length, network size and training of the CAMELS check."""

    sequence_days: int = 270
    hidden_size: int = 64
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 3e-3
    seed: int = 0


def read_basin(root: Path, basin: str) -> pd.DataFrame:
    """Daily forcing and streamflow [ft3/s] of one basin, indexed by date.

    Raises
    ------
    InputError
        If a file of the basin is missing or unreadable.
    """
    forcing_file = (
        root / "basin_mean_forcing" / "daymet" / f"{basin}_lump_cida_forcing_leap.txt"
    )
    flow_file = root / "usgs_streamflow" / f"{basin}_streamflow_qc.txt"
    try:
        forcing = pd.read_csv(forcing_file, sep=r"\s+", skiprows=3)
        flow = pd.read_csv(
            flow_file,
            sep=r"\s+",
            header=None,
            names=["basin", "Year", "Mnth", "Day", "q", "flag"],
        )
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise InputError(
            f"CAMELS basin {basin!r} in {str(root)!r} cannot be read: {error}"
        ) from error
    forcing.index = pd.to_datetime(
        forcing[["Year", "Mnth", "Day"]].rename(
            columns={"Mnth": "month", "Year": "year", "Day": "day"}
        )
    )
    flow.index = pd.to_datetime(
        flow[["Year", "Mnth", "Day"]].rename(
            columns={"Mnth": "month", "Year": "year", "Day": "day"}
        )
    )
    frame = forcing[FORCINGS].join(flow["q"], how="inner")
    frame.loc[frame["q"] < 0, "q"] = np.nan
    return frame


def nse(observed: np.ndarray, simulated: np.ndarray) -> float:
    """Nash-Sutcliffe efficiency (Nash and Sutcliffe 1970) over days with both."""
    ok = ~(np.isnan(observed) | np.isnan(simulated))
    obs, sim = observed[ok], simulated[ok]
    return float(1 - np.sum((sim - obs) ** 2) / np.sum((obs - obs.mean()) ** 2))


def run_camels_check(root: Path, *, config: CamelsConfig | None = None) -> dict:
    """Train on every year but the last of all basins; return NSE per basin.

    Raises
    ------
    InputError
        If ``root`` contains no ``4_basins.txt`` basin list or a basin's files.
    """
    config = config or CamelsConfig()
    listing = Path(root) / "4_basins.txt"
    if not listing.is_file():
        raise InputError(f"CAMELS folder {str(root)!r} has no basin list 4_basins.txt")
    basins = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    frames = {basin: read_basin(Path(root), basin) for basin in basins}
    test_year = max(frame.index.max().year for frame in frames.values())
    train_end = pd.Timestamp(f"{test_year}-01-01")

    stacked = pd.concat([f[f.index < train_end] for f in frames.values()])
    mean, std = stacked[FORCINGS].mean(), stacked[FORCINGS].std().replace(0, 1)
    train, test = [], {}
    for basin, frame in frames.items():
        flow_mean = float(frame.loc[frame.index < train_end, "q"].mean())
        x = ((frame[FORCINGS] - mean) / std).to_numpy(np.float32)
        y = (frame["q"] / flow_mean).to_numpy(np.float32)
        ends = np.arange(config.sequence_days - 1, len(frame))
        is_train = frame.index[ends] < train_end
        train.append((x, y, ends[is_train]))
        test[basin] = (x, y, ends[~is_train], flow_mean)

    network = _train(train, config)
    scores = {}
    for basin, (x, y, ends, flow_mean) in test.items():
        median = _predict(network, x, ends, config)[:, 1]
        scores[basin] = round(nse(y[ends] * flow_mean, median * flow_mean), 3)
    logger.info("CAMELS-US NSE on %d: %s", test_year, scores)
    return {
        "basins": basins,
        "test_year": int(test_year),
        "train_years": sorted({int(y) for y in stacked.index.year}),
        "config": config.__dict__,
        "nse": scores,
        "median_nse": round(float(np.median(list(scores.values()))), 3),
        "note": PUBLISHED_NOTE,
    }


def _windows(x: np.ndarray, ends: np.ndarray, days: int) -> torch.Tensor:
    index = ends[:, None] - days + 1 + np.arange(days)[None, :]
    return torch.from_numpy(x[index])


def _train(train: list, config: CamelsConfig) -> QuantileLSTM:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(config.seed)
    try:
        network = QuantileLSTM(len(FORCINGS), 0, 1, config.hidden_size)
        optimiser = torch.optim.AdamW(network.parameters(), lr=config.learning_rate)
        sequences = torch.cat(
            [_windows(x, ends, config.sequence_days) for x, _, ends in train]
        )
        targets = torch.from_numpy(np.concatenate([y[ends] for _, y, ends in train]))[
            :, None
        ]
        mask = (~torch.isnan(targets)).float()
        targets = torch.nan_to_num(targets)
        empty = torch.zeros((len(sequences), 0))
        generator = torch.Generator().manual_seed(config.seed)
        network.train()
        for _ in range(config.epochs):
            for batch in torch.randperm(len(sequences), generator=generator).split(
                config.batch_size
            ):
                optimiser.zero_grad()
                loss = pinball_loss(
                    network(sequences[batch], empty[batch]),
                    targets[batch],
                    mask[batch],
                    (0.1, 0.5, 0.9),
                )
                loss.backward()
                optimiser.step()
        network.eval()
        return network
    finally:
        torch.set_num_threads(threads)


def _predict(network, x, ends, config) -> np.ndarray:
    with torch.no_grad():
        sequences = _windows(x, ends, config.sequence_days)
        out = network(sequences, torch.zeros((len(sequences), 0)))
    return out[:, 0, :].numpy()
