"""Train, evaluate and decide on promoting the level forecaster.

The order of one training run:

1. put the accepted levels on an hourly grid and split stations and time
   (:func:`models.level_training.split_period`);
2. find the upstream graph on the training stations' training period only;
3. train on issue hours before the validation hours, pick the epoch there;
4. score the served forecasts (network, or the baseline where the network
   cannot serve) on held-out time and on held-out stations, beside
   persistence (the last reading) and the persistence-and-trend baseline,
   and against CWC's official forecasts on matched pairs;
5. promote only if the served forecasts beat persistence on both held-out
   sets at every lead bucket, and write the artifact with its card.

NOTE: inputs are cut from the latest accepted revision of each hour, so the
evaluation sees CWC's later corrections a live cycle would not yet have;
the backtest, which replays what was visible, does not have this advantage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from models.baseline import PersistenceTrendForecaster
from models.level_card import write_card
from models.level_forecaster import MODEL_PREFIX, save_artifact
from models.level_net import LevelNetConfig
from models.level_skill import (
    beats_reference,
    bucket_of,
    cluster_ids,
    paired_bootstrap,
    skill_table,
)
from models.level_training import (
    SampleSet,
    fit_network,
    make_samples,
    predict_quantiles,
    served_only,
    split_period,
)
from models.upstream import hourly_table, upstream_graph

logger = logging.getLogger(__name__)

SCORED_MODELS = ("argus", "persistence", "persistence_trend")
# A CWC forecast this far from the last reading is an error in the bulletin [m].
MAX_OFFICIAL_JUMP_M = 5.0


@dataclass(frozen=True)
class TrainingResult:
    """Where the artifact went, whether it was promoted and its card."""

    folder: Path
    promoted: bool
    card: dict


def train_level_model(
    levels: pd.DataFrame,
    stations: pd.DataFrame,
    official: pd.DataFrame,
    *,
    out_dir: Path,
    config: LevelNetConfig,
    data_note: dict | None = None,
    n_boot: int = 1000,
) -> TrainingResult:
    """Run one training run end to end and write its artifact and card.

    Parameters
    ----------
    levels
        Accepted levels: ``station_code``, ``observed_at`` (UTC), ``level_m``.
    stations
        Reference table: code, river, position and thresholds.
    official
        CWC's forecasts: ``station_code``, ``issued_at``, ``forecast_for``,
        ``level_m``.
    out_dir
        Folder that receives ``<version>/``.
    config
        Network and training settings; ``scale_m`` is replaced by the spread
        of 24 h changes in the training data.
    data_note
        What the data is (source folder, quarantine counts), for the card.
    """
    table = hourly_table(levels)
    split = split_period(table, seed=config.seed)
    before_split = pd.to_datetime(levels["observed_at"], utc=True) < split.split_at
    graph = upstream_graph(
        levels[before_split & levels["station_code"].isin(split.train_stations)],
        stations,
        max_upstream=config.n_upstream,
    )
    config = replace(config, scale_m=_change_scale(table[split.train_stations], split))
    thresholds = stations.set_index("station_code")[
        ["warning_level_m", "danger_level_m"]
    ]
    cut = {"table": table, "graph": graph, "thresholds_m": thresholds, "config": config}

    train = make_samples(
        station_codes=split.train_stations,
        issue_from=split.start,
        issue_before=split.validation_from,
        targets_before=split.validation_from,
        **cut,
    )
    validation = make_samples(
        station_codes=split.train_stations,
        issue_from=split.validation_from,
        issue_before=split.split_at,
        targets_before=split.split_at,
        **cut,
    )
    network, log = fit_network(served_only(train), served_only(validation), config)

    after_end = split.end + pd.Timedelta(hours=1)
    held_out = {
        "held_out_time": make_samples(
            station_codes=split.train_stations,
            issue_from=split.split_at,
            issue_before=after_end,
            **cut,
        ),
        "held_out_stations": make_samples(
            station_codes=split.held_out_stations,
            issue_from=split.start,
            issue_before=after_end,
            **cut,
        ),
    }
    offset = _reading_offset(levels)
    scored = {
        name: score_samples(samples, network=network, config=config, offset=offset)
        for name, samples in held_out.items()
    }
    metrics = {
        name: {
            "forecasts": len(frame),
            "served_by_network": round(float(frame["served_by_network"].mean()), 4)
            if len(frame)
            else 0.0,
            "buckets": skill_table(
                frame, models=SCORED_MODELS, seed=config.seed, n_boot=n_boot
            ),
        }
        for name, frame in scored.items()
    }
    cwc = compare_with_cwc(
        official, scored, split=split, offset=offset, seed=config.seed
    )
    reasons = [
        f"{name}: {failure}"
        for name in scored
        for failure in beats_reference(metrics[name]["buckets"], model="argus")
    ]

    folder = save_artifact(
        out_dir,
        network=network,
        config=config,
        graph=graph,
        thresholds_m=thresholds,
        data_end=split.end,
        extra={"split": split.to_dict()},
    )
    card = write_card(
        folder,
        name=f"{MODEL_PREFIX}-{folder.name}",
        promoted=not reasons,
        reasons=reasons,
        config=config,
        split=split,
        graph=graph,
        training_log=log,
        samples={
            "train": len(served_only(train).targets_m),
            "validation": len(served_only(validation).targets_m),
        },
        metrics=metrics,
        cwc=cwc,
        data_note={
            "readings": len(levels),
            "stations": int(levels["station_code"].nunique()),
            **(data_note or {}),
        },
    )
    logger.info("level model %s written; promoted: %s", folder, not reasons)
    return TrainingResult(folder=folder, promoted=not reasons, card=card)


def score_samples(
    samples: SampleSet, *, network, config: LevelNetConfig, offset: pd.Timedelta
) -> pd.DataFrame:
    """One row per sample and lead with the truth and every model's forecast [m].

    ``argus`` is what would be served: the network where it can serve, the
    baseline elsewhere. Rows without an observed truth are dropped.
    """
    leads = np.arange(1, config.max_lead_h + 1)
    n = len(samples.targets_m)
    baseline = PersistenceTrendForecaster().forecast_arrays(
        samples.window_m, samples.inputs.age_h, leads
    )
    served = np.stack(baseline, axis=-1)
    usable = samples.inputs.usable
    if usable.any():
        subset = served_only(samples).inputs
        served[usable] = predict_quantiles(network, subset, config)
    anchor = samples.inputs.anchor_m
    frame = pd.DataFrame(
        {
            "station_code": np.repeat(samples.station_codes, len(leads)),
            "issue_hour": np.repeat(samples.issued_at, len(leads)),
            "issued_at": np.repeat(samples.issued_at + offset, len(leads)),
            "lead_h": np.tile(leads, n),
            "truth_m": (anchor[:, None] + samples.targets_m).ravel(),
            "served_by_network": np.repeat(usable, len(leads)),
            "argus_p10": served[..., 0].ravel(),
            "argus_p50": served[..., 1].ravel(),
            "argus_p90": served[..., 2].ravel(),
            "persistence_p50": np.repeat(anchor, len(leads)),
            "persistence_trend_p10": baseline[0].ravel(),
            "persistence_trend_p50": baseline[1].ravel(),
            "persistence_trend_p90": baseline[2].ravel(),
        }
    )
    return frame[frame["truth_m"].notna()].reset_index(drop=True)


def compare_with_cwc(
    official: pd.DataFrame,
    scored: dict[str, pd.DataFrame],
    *,
    split,
    offset: pd.Timedelta,
    seed: int,
    n_boot: int = 1000,
) -> dict:
    """Score CWC's forecasts and ARGUS's on matched pairs of the held-out sets.

    A CWC forecast issued at t for v is matched with ARGUS's forecast issued at
    the last reading hour at or before t, for the same station and v; its
    bucket is that of v - t rounded up to a whole hour.
    """
    plausible = _plausible_official(official, scored)
    left_out = len(official) - len(plausible)
    pairs = plausible.assign(
        issue_hour=(official["issued_at"] - offset).dt.floor("h"),
        valid_hour=(official["forecast_for"] - offset).dt.floor("h"),
    )
    pairs["lead_h"] = (pairs["valid_hour"] - pairs["issue_hour"]) / pd.Timedelta(
        hours=1
    )
    pairs["bucket_lead_h"] = np.ceil(
        (pairs["forecast_for"] - pairs["issued_at"]) / pd.Timedelta(hours=1)
    )
    held_time = pairs["issued_at"] >= split.split_at
    chosen = {
        "held_out_time": pairs[held_time],
        "held_out_stations": pairs[pairs["station_code"].isin(split.held_out_stations)],
    }
    result = {}
    for name, part in chosen.items():
        merged = part.rename(columns={"level_m": "cwc_p50"}).merge(
            scored[name].drop(columns="issued_at"),
            on=["station_code", "issue_hour", "lead_h"],
            how="inner",
        )
        result[name] = _cwc_scores(merged, seed=seed, n_boot=n_boot)
    result["left_out_implausible"] = left_out
    result["left_out_threshold_m"] = MAX_OFFICIAL_JUMP_M
    return result


def _plausible_official(
    official: pd.DataFrame, scored: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Drop CWC forecasts more than ``MAX_OFFICIAL_JUMP_M`` from the last reading.

    Such a value is a datum or typing error in the bulletin, not a forecast;
    scoring it would swamp CWC's MAE. The last reading is the one ARGUS had
    at the issue time (persistence), so no truth from the valid time is used.
    """
    last = pd.concat(
        [f[["station_code", "issued_at", "persistence_p50"]] for f in scored.values()]
    ).drop_duplicates(["station_code", "issued_at"])
    merged = official.merge(
        last.rename(columns={"issued_at": "_argus_issue"}),
        on="station_code",
        how="left",
    )
    merged = merged[merged["_argus_issue"] <= merged["issued_at"]]
    merged = merged.sort_values("_argus_issue").drop_duplicates(
        ["station_code", "issued_at", "forecast_for"], keep="last"
    )
    jump = (merged["level_m"] - merged["persistence_p50"]).abs()
    bad = merged[jump > MAX_OFFICIAL_JUMP_M]
    for row in bad.itertuples():
        logger.warning(
            "CWC forecast for %s issued %s (%.2f m) is %.1f m from the last "
            "reading; left out of the comparison",
            row.station_code,
            row.issued_at,
            row.level_m,
            abs(row.level_m - row.persistence_p50),
        )
    keys = ["station_code", "issued_at", "forecast_for"]
    dropped = official.set_index(keys).index.isin(bad.set_index(keys).index)
    return official[~dropped]


def _cwc_scores(merged: pd.DataFrame, *, seed: int, n_boot: int) -> dict:
    scores: dict = {"pairs": len(merged)}
    groups = {"1-12": merged["bucket_lead_h"] <= 12, "all": merged["bucket_lead_h"] > 0}
    for bucket in ("1-6", "7-12", "13-24"):
        groups[bucket] = bucket_of(merged["bucket_lead_h"]) == bucket
    for name, mask in groups.items():
        part = merged[mask]
        entry: dict = {"n": len(part)}
        if len(part):
            errors = {
                m: (part[f"{m}_p50"] - part["truth_m"]).to_numpy()
                for m in ("cwc", "argus", "persistence")
            }
            for model, error in errors.items():
                entry[model] = {
                    "mae_m": round(float(np.mean(np.abs(error))), 4),
                    "within_0_15": round(
                        float(np.mean(np.abs(error) <= 0.15 + 1e-9)), 4
                    ),
                }
            estimate, low, high = paired_bootstrap(
                np.abs(errors["argus"]) - np.abs(errors["cwc"]),
                cluster_ids(part),
                seed=seed,
                n_boot=n_boot,
            )
            entry["argus_minus_cwc_mae_m"] = estimate
            entry["argus_minus_cwc_mae_ci90_m"] = [low, high]
        scores[name] = entry
    return scores


def _change_scale(table: pd.DataFrame, split) -> float:
    """Standard deviation of 24 h level changes in the training period [m]."""
    train = table[table.index < split.validation_from]
    changes = (train.shift(-24) - train).to_numpy()
    changes = changes[~np.isnan(changes)]
    if changes.size < 2 or not np.std(changes) > 0:
        return LevelNetConfig.scale_m
    return round(float(np.std(changes)), 4)


def _reading_offset(levels: pd.DataFrame) -> pd.Timedelta:
    """Most common minute of the readings: CWC's full IST hours are :30 UTC."""
    minutes = pd.to_datetime(levels["observed_at"], utc=True).dt.minute
    return pd.Timedelta(minutes=int(minutes.mode().iloc[0]) if len(minutes) else 0)
