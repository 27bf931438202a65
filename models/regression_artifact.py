"""Artifact of the adaptive upstream regression, and its evaluation card.

The regression has no trained weights: it is refitted on each gauge's own
recent readings at every issue (see :mod:`models.adaptive_regression`). Its
artifact is therefore its settings (``model.json`` with ``kind`` set to
:data:`models.level_forecaster.REGRESSION_KIND`) and its card, which scores a
backtest of the recorded snapshots served by this very artifact.

The card scores two held-out sets, as the LSTM's card does: held-out time
(the issue hours from ``holdout_from`` on) and held-out stations (a seeded
random fifth of the gauges, all hours). The regression learns nothing across
gauges, so held-out stations test only that its settings were not picked for
particular gauges. It is promoted only if its served forecasts beat
persistence in MAE at every lead bucket on both sets.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from argus.errors import ConfigurationError
from models.adaptive_regression import AdaptiveRegressionForecaster, RegressionConfig
from models.level_forecaster import CARD_JSON, MODEL_FILE, REGRESSION_KIND
from models.level_skill import beats_reference, paired_bootstrap, skill_table

logger = logging.getLogger(__name__)

HELD_OUT_STATION_SHARE = 0.2
MODELS = ("argus", "persistence")


def save_regression(root: Path, config: RegressionConfig, data_end: pd.Timestamp):
    """Write ``root/<version>/model.json``; returns the folder.

    The version is the last day of the evaluation data and the first 8 hex
    digits of the SHA-256 of the settings, so the same settings give the same
    version.
    """
    version = regression_version(config, data_end)
    folder = Path(root) / version
    folder.mkdir(parents=True, exist_ok=True)
    model = {
        "kind": REGRESSION_KIND,
        "version": version,
        "name": f"{AdaptiveRegressionForecaster.prefix}-{version}",
        "config": config.to_dict(),
    }
    (folder / MODEL_FILE).write_text(json.dumps(model, indent=1, sort_keys=True))
    return folder


def regression_version(config: RegressionConfig, data_end: pd.Timestamp) -> str:
    """Return the artifact version: the data's last day and the settings' digest."""
    settings = json.dumps(config.to_dict(), sort_keys=True)
    digest = hashlib.sha256(settings.encode()).hexdigest()[:8]
    return f"{data_end:%Y%m%d}-{digest}"


def load_regression(folder: Path) -> AdaptiveRegressionForecaster:
    """Load the regression of an artifact folder.

    Raises
    ------
    ConfigurationError
        If the model file cannot be read or contains unknown settings.
    """
    try:
        model = json.loads((Path(folder) / MODEL_FILE).read_text())
        config = RegressionConfig.from_dict(model["config"])
        return AdaptiveRegressionForecaster(config=config, version=model["version"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(
            f"regression model in {str(folder)!r} cannot be loaded: {error}; "
            "write it again with `argus train regression`"
        ) from error


def held_out_stations(codes, seed: int) -> list[str]:
    """Pick a seeded random fifth of ``codes`` (sorted first, so the order is fixed)."""
    ordered = sorted(set(codes))
    rng = np.random.default_rng(seed)
    count = max(1, round(HELD_OUT_STATION_SHARE * len(ordered)))
    return sorted(rng.choice(ordered, size=count, replace=False).tolist())


def evaluate(
    scored: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    holdout_from: pd.Timestamp,
    seed: int,
    n_boot: int = 1000,
) -> dict:
    """Score the backtest rows on both held-out sets and decide promotion.

    Parameters
    ----------
    scored
        The backtest's ``scored.csv.gz`` rows.
    pairs
        The backtest's ``official_pairs.csv`` rows.
    holdout_from
        First issue hour of held-out time (aware).
    """
    rows = _skill_rows(scored)
    stations = held_out_stations(rows["station_code"], seed)
    sets = {
        "held_out_time": rows["issued_at"] >= holdout_from,
        "held_out_stations": rows["station_code"].isin(stations),
    }
    cwc_time = pd.to_datetime(pairs["cwc_issued_at"], utc=True)
    cwc_sets = {
        "held_out_time": cwc_time >= holdout_from,
        "held_out_stations": pairs["station_code"].isin(stations),
    }
    card: dict = {"sets": {}, "official": {}, "failures": {}}
    for name, keep in sets.items():
        table = skill_table(rows[keep], models=MODELS, seed=seed, n_boot=n_boot)
        card["sets"][name] = table
        card["failures"][name] = beats_reference(table, model="argus")
        card["official"][name] = official_scores(pairs[cwc_sets[name]], seed, n_boot)
    card["promoted"] = not any(card["failures"].values())
    card["held_out_stations"] = stations
    card["holdout_from"] = holdout_from.isoformat()
    card["served_share"] = _served_share(scored)
    return card


def official_scores(pairs: pd.DataFrame, seed: int, n_boot: int) -> dict:
    """Score CWC against ARGUS on the matched pairs over 1-24 h.

    The interval resamples station-days of the CWC issue time.
    """
    if pairs.empty:
        return {"pairs": 0}
    cwc = np.abs(pairs["cwc_m"] - pairs["observed_m"]).to_numpy()
    argus = np.abs(pairs["argus_m"] - pairs["observed_m"]).to_numpy()
    day = pd.to_datetime(pairs["cwc_issued_at"], utc=True).dt.tz_convert("Asia/Kolkata")
    clusters = pd.factorize(pairs["station_code"] + "|" + day.dt.date.astype(str))[0]
    estimate, low, high = paired_bootstrap(
        argus - cwc, clusters, seed=seed, n_boot=n_boot
    )
    return {
        "pairs": len(pairs),
        "stations": int(pairs["station_code"].nunique()),
        "cwc_mae_m": round(float(cwc.mean()), 4),
        "argus_mae_m": round(float(argus.mean()), 4),
        "cwc_within_0_15": round(float(np.mean(cwc <= 0.15 + 1e-9)), 4),
        "argus_within_0_15": round(float(np.mean(argus <= 0.15 + 1e-9)), 4),
        "argus_minus_cwc_mae_m": estimate,
        "argus_minus_cwc_ci90_m": [low, high],
    }


def write_card(folder: Path, card: dict, note: dict) -> None:
    """Write ``card.json`` and a readable ``card.md`` into the artifact folder."""
    card = {**card, **note}
    (Path(folder) / CARD_JSON).write_text(
        json.dumps(card, indent=1, sort_keys=True, default=str) + "\n"
    )
    (Path(folder) / "card.md").write_text(render_card(card))


def render_card(card: dict) -> str:
    """Render the card as Markdown tables."""
    verdict = "promoted" if card["promoted"] else "not promoted (the baseline serves)"
    lines = [
        f"# Level model card: {card.get('name', 'upstream regression')}",
        "",
        f"Verdict: **{verdict}**.",
        "",
        "Served forecasts (the regression, or the persistence-and-trend baseline",
        "where a gauge has too little history) against persistence, from one",
        f"backtest of {card.get('data', 'the recorded snapshots')}. Held-out time:",
        f"issues from {card['holdout_from']}. Held-out stations:",
        f"{', '.join(card['held_out_stations'])}.",
        "",
    ]
    lines += _persistence_table(card)
    lines += [
        "",
        "Against CWC's official forecasts on matched pairs (1-24 h; interval over",
        "station-days):",
        "",
    ]
    lines += _official_table(card)

    lines += ["", "Share of forecast rows per serving model:", ""]
    lines += [
        f"- {model}: {share:.3f}" for model, share in card["served_share"].items()
    ]
    failures = [f"{s}: {f}" for s, fs in card["failures"].items() for f in fs]
    lines += ["", "Promotion rule failures:" if failures else "Promotion rule: met."]
    lines += [f"- {failure}" for failure in failures]
    for caveat in card.get("caveats", []):
        lines += ["", caveat]
    return "\n".join(lines) + "\n"


def _persistence_table(card: dict) -> list[str]:
    """Build the Markdown rows of the model against persistence per set and bucket."""
    lines = [
        (
            "| set | lead | n | model MAE [m] | persistence MAE [m] | "
            "model − persistence [m] (90 % CI) | within ±0.15 m: model / persistence "
            "| p10-p90 coverage |"
        ),
        "|---|---|---:|---:|---:|---|---|---:|",
    ]
    for name, table in card["sets"].items():
        for bucket, entry in table.items():
            if not entry.get("n"):
                continue
            mine, ref = entry["argus"], entry["persistence"]
            low, high = mine["mae_diff_ci90_m"]
            lines.append(
                f"| {name.replace('_', ' ')} | {bucket} h | {entry['n']:,} "
                f"| {mine['mae_m']:.3f} | {ref['mae_m']:.3f} "
                f"| {mine['mae_diff_m']:+.3f} ({low:+.3f}, {high:+.3f}) "
                f"| {100 * mine['within_0_15']:.1f} / "
                f"{100 * ref['within_0_15']:.1f} % "
                f"| {100 * mine['coverage_p10_p90']:.1f} % |"
            )
    return lines


def _official_table(card: dict) -> list[str]:
    """Build the Markdown rows of the model against CWC's forecasts per set."""
    lines = [
        (
            "| set | pairs | stations | CWC MAE [m] | model MAE [m] | within ±0.15 m: "
            "CWC / model | model − CWC [m] (90 % CI) |"
        ),
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, entry in card["official"].items():
        if not entry.get("pairs"):
            lines.append(f"| {name.replace('_', ' ')} | 0 | | | | | |")
            continue
        low, high = entry["argus_minus_cwc_ci90_m"]
        lines.append(
            f"| {name.replace('_', ' ')} | {entry['pairs']} | {entry['stations']} "
            f"| {entry['cwc_mae_m']:.3f} | {entry['argus_mae_m']:.3f} "
            f"| {100 * entry['cwc_within_0_15']:.1f} / "
            f"{100 * entry['argus_within_0_15']:.1f} % "
            f"| {entry['argus_minus_cwc_mae_m']:+.3f} ({low:+.3f}, {high:+.3f}) |"
        )
    return lines


def _skill_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """Rename the backtest rows to :func:`models.level_skill.skill_table`'s columns."""
    return pd.DataFrame(
        {
            "station_code": scored["station_code"].astype(str),
            "issued_at": pd.to_datetime(scored["issued_at"], utc=True),
            "lead_h": scored["lead_h"].astype(int),
            "truth_m": scored["observed_m"].astype(float),
            "argus_p50": scored["level_m"].astype(float),
            "argus_p10": scored["p10_m"].astype(float),
            "argus_p90": scored["p90_m"].astype(float),
            "persistence_p50": scored["persistence_m"].astype(float),
        }
    )


def _served_share(scored: pd.DataFrame) -> dict[str, float]:
    shares = scored["model"].value_counts(normalize=True)
    return {str(model): round(float(share), 4) for model, share in shares.items()}
