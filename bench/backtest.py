"""Time the backtest of the whole recorded fortnight and the cost of inference.

Replays every CWC poll of ``cwc_ffs/snapshots`` (2026-07-27..08-08, 133 files)
with :func:`argus.backtest.run.run_backtest`: hourly issue times from the
first to the last poll, the serving forecaster of ``models.serving``, and,
unless ``--no-villages``, the 1,794 OpenStreetMap places of
``geo/assam_osm_places.json`` with the revenue-circle check.

Reported, besides the backtest's own ``stage_seconds``:

- wall_s and cpu_s: the wall and process CPU time of the whole run [s];
- peak_rss_mib: the process's peak resident memory [MiB];
- station_forecasts: issue times x stations forecast (each 24 lead times);
- inference_ms_per_station_forecast: the forecast stage over
  station_forecasts [ms];
- forecast_to_persistence_ratio: the forecast stage over the plain
  persistence (latest level) computed from the same history in the same run.

Usage: ``python -m bench.backtest --json [--out DIR] [--no-villages]``;
``python -m bench.backtest --tables OUTDIR/metrics.json`` prints the skill
tables of ``docs/skill.md`` from a backtest's metrics.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from argus.backtest.circles import CircleReports
from argus.backtest.run import BacktestRequest, run_backtest
from argus.settings import Settings
from models.serving import serving_forecaster

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def run(out: Path, *, villages: bool) -> dict:
    """Run the full backtest into ``out`` and return the timings and counts."""
    reports = CircleReports(
        circles=DATA / "geo" / "assam_revenue_circles.geojson",
        asdma=DATA
        / "asdma"
        / "reports_2026"
        / "asdma_2026-07-27_extractor-v7-circles.csv",
        drims=DATA
        / "revenue_circles"
        / "monthly"
        / "drims_population_affected_monthly_rc.csv",
    )
    request = BacktestRequest(
        replay_dir=DATA / "cwc_ffs" / "snapshots",
        out_dir=out,
        villages_file=DATA / "geo" / "assam_osm_places.json" if villages else None,
        reports=reports if villages else None,
    )
    settings = Settings(home=out / "home")

    wall, cpu = time.perf_counter(), time.process_time()
    metrics = run_backtest(
        request, forecaster=serving_forecaster(settings), settings=settings
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    stages = metrics["stage_seconds"]
    station_forecasts = metrics["forecast_rows"] // 24
    return {
        "villages": villages,
        "issue_hours": metrics["instants"]["issue_hours"],
        "snapshot_files": metrics["files"]["snapshots"],
        "stations": _stations(out),
        "station_forecasts": station_forecasts,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
        "stage_seconds": stages,
        "inference_ms_per_station_forecast": round(
            1000 * stages["forecast"] / station_forecasts, 3
        ),
        "forecast_to_persistence_ratio": round(
            stages["forecast"] / stages["persistence"], 1
        ),
        "metrics": metrics,
    }


def _stations(out: Path) -> int:
    with (out / "forecasts.csv").open() as handle:
        next(handle)
        return len({line.split(",", 1)[0] for line in handle})


def skill_tables(metrics: dict) -> str:
    """Format the skill of a backtest's metrics as Markdown tables."""
    lines = [
        (
            "| lead | n | ARGUS MAE [m] | persistence MAE [m] | ARGUS RMSE [m] "
            "| persistence RMSE [m] | ARGUS median NSE | persistence median NSE "
            "| ARGUS within 0.15 m | persistence within 0.15 m | p10-p90 coverage |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, bucket in metrics["buckets"].items():
        ours, base = bucket["argus"], bucket["persistence"]
        lines.append(
            f"| {name} h | {ours['n']:,} | {ours['mae_m']:.3f} | {base['mae_m']:.3f} "
            f"| {ours['rmse_m']:.3f} | {base['rmse_m']:.3f} "
            f"| {ours['nse_median']:.2f} | {base['nse_median']:.2f} "
            f"| {ours['within_0_15']:.1%} | {base['within_0_15']:.1%} "
            f"| {ours['p10_p90_coverage']:.1%} |"
        )
    lines += [
        "",
        (
            "| lead | pairs | stations | station-days | CWC MAE [m] "
            "| ARGUS MAE [m] | CWC within 0.15 m | ARGUS within 0.15 m "
            "| ARGUS - CWC MAE [m] | 90 % interval [m] |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, pair in metrics["official"]["buckets"].items():
        if not pair["pairs"]:
            lines.append(f"| {name} h | 0 | | | | | | | | |")
            continue
        interval = pair["mae_difference_90ci_m"]
        interval_text = (
            f"[{interval[0]:+.3f}, {interval[1]:+.3f}]" if interval else "none"
        )
        lines.append(
            f"| {name} h | {pair['pairs']} | {pair['stations']} "
            f"| {pair['bootstrap_clusters']} "
            f"| {pair['cwc_mae_m']:.3f} | {pair['argus_mae_m']:.3f} "
            f"| {pair['cwc_within_0_15']:.1%} | {pair['argus_within_0_15']:.1%} "
            f"| {pair['mae_difference_m']:+.3f} | {interval_text} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output folder (default: temporary)")
    parser.add_argument("--no-villages", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--tables", type=Path, help="print the skill tables of this metrics.json"
    )
    args = parser.parse_args()
    if args.tables:
        print(skill_tables(json.loads(args.tables.read_text())))
        return

    with tempfile.TemporaryDirectory(prefix="argus-bench-") as folder:
        result = run(args.out or Path(folder), villages=not args.no_villages)
    summary = {k: v for k, v in result.items() if k != "metrics"}
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        for key, value in summary.items():
            print(f"{key:<36} {value}")


if __name__ == "__main__":
    main()
