"""The model card of a level forecaster: JSON for machines, markdown for people."""

from __future__ import annotations

import json
from pathlib import Path

from models.level_net import LevelNetConfig

CAVEATS = [
    (
        "The recorded period is about a fortnight of one monsoon (2026-07-27.."
        "2026-08-08): held-out time is its last ~30 %, a few days, so the intervals "
        "are wide and a different month may score differently."
    ),
    (
        "Held-out stations are a seeded random fifth of the gauges; they are never "
        "trained on and get no upstream gauges, as a new station would."
    ),
    (
        "Inputs use the latest accepted revision of each hour, including CWC's "
        "later corrections; the backtest replays what was visible at each time."
    ),
    (
        "CWC publishes official forecasts for 15 stations, so the matched pairs "
        "are few; read their intervals before their point values."
    ),
    "Intervals are 90 % cluster bootstrap intervals, resampling station-days.",
]


def write_card(folder: Path, **fields) -> dict:
    """Write ``card.json`` and ``card.md`` into an artifact folder; returns the card."""
    card = _card(**fields)
    (folder / "card.json").write_text(json.dumps(card, indent=1, sort_keys=True))
    (folder / "card.md").write_text(render_markdown(card))
    return card


def _card(
    *,
    name: str,
    promoted: bool,
    reasons: list[str],
    config: LevelNetConfig,
    split,
    graph: dict,
    training_log: list[dict],
    samples: dict,
    metrics: dict,
    cwc: dict,
    data_note: dict,
) -> dict:
    best = min(training_log, key=lambda row: row["validation_loss"], default={})
    return {
        "name": name,
        "promoted": promoted,
        "promotion_rule": (
            "promoted only if the served forecasts have a lower MAE than "
            "persistence on held-out time and on held-out stations at every "
            "lead bucket (1-6, 7-12, 13-24 h)"
        ),
        "not_promoted_because": reasons,
        "architecture": (
            f"LSTM ({config.hidden_size} units) over the last {config.window_h} h "
            f"of the station and up to {config.n_upstream} upstream gauges, "
            "levels relative to each gauge's last reading; head gives p10/p50/p90 "
            f"of the change from the last reading at 1..{config.max_lead_h} h; "
            "pinball loss"
        ),
        "config": config.to_dict(),
        "data": data_note,
        "split": split.to_dict(),
        "samples": samples,
        "upstream_links": sum(len(edges) for edges in graph.values()),
        "stations_with_upstream": sum(1 for edges in graph.values() if edges),
        "best_epoch": best.get("epoch"),
        "training_log": training_log,
        "metrics": metrics,
        "cwc_matched_pairs": cwc,
        "caveats": CAVEATS,
    }


def render_markdown(card: dict) -> str:
    """Render a card as markdown tables."""
    verdict = "promoted" if card["promoted"] else "NOT promoted: the baseline serves"
    lines = [
        f"# Level forecaster {card['name']}",
        "",
        f"Status: **{verdict}**. Rule: {card['promotion_rule']}.",
    ]
    lines += [f"- {reason}" for reason in card["not_promoted_because"]]
    split = card["split"]
    lines += [
        "",
        f"Model: {card['architecture']}.",
        "",
        f"Data: {json.dumps(card['data'], sort_keys=True)}.",
        (
            f"Period {split['start']} .. {split['end']}; validation from "
            f"{split['validation_from']}; held-out time from {split['split_at']}."
        ),
        (
            f"Held-out stations ({len(split['held_out_stations'])}): "
            f"{', '.join(split['held_out_stations'])}."
        ),
        (
            f"Samples: {card['samples']}; best epoch {card['best_epoch']}; "
            f"{card['stations_with_upstream']} stations have upstream gauges."
        ),
    ]
    for name, part in card["metrics"].items():
        lines += ["", *_skill_lines(name, part)]
    lines += ["", *_cwc_lines(card["cwc_matched_pairs"])]
    if "camels_us" in card:
        lines += ["", *_camels_lines(card["camels_us"])]
    lines += ["", "## Caveats", "", *[f"- {c}" for c in card["caveats"]], ""]
    return "\n".join(lines)


def _skill_lines(name: str, part: dict) -> list[str]:
    lines = [
        f"## {name.replace('_', ' ')}",
        "",
        (
            f"{part['forecasts']} scored forecasts; the network served "
            f"{part['served_by_network']:.0%}, the baseline the rest."
        ),
        "",
        (
            "| lead | n | model | MAE [m] | within ±0.15 m | p10-p90 coverage "
            "| MAE − persistence [m] (90 % CI) |"
        ),
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for bucket, entry in part["buckets"].items():
        for model in ("argus", "persistence_trend", "persistence"):
            if model not in entry:
                continue
            scores = entry[model]
            diff = scores.get("mae_diff_m")
            interval = scores.get("mae_diff_ci90_m", [None, None])
            diff_text = (
                ""
                if diff is None
                else f"{diff:+.3f} ({interval[0]:+.3f}, {interval[1]:+.3f})"
            )
            coverage = scores.get("coverage_p10_p90")
            lines.append(
                f"| {bucket} h | {entry['n']} | {model} | {scores['mae_m']:.3f} "
                f"| {scores['within_0_15']:.1%} "
                f"| {'' if coverage is None else f'{coverage:.1%}'} | {diff_text} |"
            )
    return lines


def _cwc_lines(cwc: dict) -> list[str]:
    lines = [
        "## Against CWC's official forecasts (matched pairs)",
        "",
        (
            "| set | lead | n | CWC MAE | ARGUS MAE | persistence MAE | CWC within "
            "| ARGUS within | ARGUS − CWC MAE (90 % CI) |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    left_out = cwc.get("left_out_implausible", 0)
    for name, part in cwc.items():
        if not isinstance(part, dict):
            continue
        for bucket in ("1-6", "7-12", "1-12", "13-24", "all"):
            entry = part.get(bucket, {})
            if not entry.get("n"):
                lines.append(f"| {name} | {bucket} h | 0 | | | | | | |")
                continue
            low, high = entry["argus_minus_cwc_mae_ci90_m"]
            lines.append(
                f"| {name} | {bucket} h | {entry['n']} | {entry['cwc']['mae_m']:.3f} "
                f"| {entry['argus']['mae_m']:.3f} | {entry['persistence']['mae_m']:.3f} "
                f"| {entry['cwc']['within_0_15']:.1%} | {entry['argus']['within_0_15']:.1%} "
                f"| {entry['argus_minus_cwc_mae_m']:+.3f} ({low:+.3f}, {high:+.3f}) |"
            )
    threshold = cwc.get("left_out_threshold_m")
    lines += [
        "",
        (
            f"{left_out} CWC forecasts more than {threshold} m from the last "
            "reading (errors in the bulletin) were left out before matching."
        ),
    ]
    return lines


def _camels_lines(camels: dict) -> list[str]:
    lines = [
        "## CAMELS-US check (same architecture, daily forcing to streamflow)",
        "",
        camels["note"],
        "",
        "| basin | NSE (held-out year) |",
        "|---|---:|",
    ]
    lines += [f"| {basin} | {nse:.3f} |" for basin, nse in camels["nse"].items()]
    lines.append(f"| median | {camels['median_nse']:.3f} |")
    return lines


def add_camels_check(folder: Path, results: dict) -> dict:
    """Add the CAMELS-US results to an artifact's card and re-render it."""
    card = json.loads((folder / "card.json").read_text())
    card["camels_us"] = results
    (folder / "card.json").write_text(json.dumps(card, indent=1, sort_keys=True))
    (folder / "card.md").write_text(render_markdown(card))
    return card
