"""Inference cost of the trained level forecaster against the baseline.

Run: ``python -m bench.level_forecaster [--artifact DIR] [--repeat N] [--json]``.
Both forecasters predict every gauge of ``cwc_ffs/hourly_levels.csv`` (85
gauges, last 3 days) at 2026-08-01 12:00 IST; the median of ``--repeat`` runs
is reported with the ratio trained / baseline and the cost per
station-forecast (one station, 24 lead times).
"""

import argparse
import json
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import torch

from argus.stations import normalise_station_code
from models.baseline import PersistenceTrendForecaster
from models.level_forecaster import load_artifact, promoted_artifacts
from models.serving import ARTIFACT_ROOT

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ISSUED_AT = datetime(2026, 8, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30)))


def _history() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "cwc_ffs" / "hourly_levels.csv")
    history = pd.DataFrame(
        {
            "station_code": frame["cwc_station_code"].map(normalise_station_code),
            "observed_at": pd.to_datetime(frame["observed_at"], utc=True),
            "level_m": frame["level_m"],
        }
    )
    start = ISSUED_AT - timedelta(days=3)
    keep = history["observed_at"].between(start, ISSUED_AT)
    return history[keep].reset_index(drop=True)


def _median_seconds(forecaster, history, repeat: int) -> tuple[float, int]:
    times, stations = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        frame = forecaster.predict(history, issued_at=ISSUED_AT)
        times.append(time.perf_counter() - started)
        stations = frame["station_code"].nunique()
    return statistics.median(times), stations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    promoted = promoted_artifacts(ARTIFACT_ROOT)
    artifact = args.artifact or (promoted[-1] if promoted else None)
    if artifact is None:
        parser.error(
            f"no promoted level model under {ARTIFACT_ROOT}; pass --artifact DIR"
        )
    trained = load_artifact(artifact)
    history = _history()
    baseline_s, stations = _median_seconds(
        PersistenceTrendForecaster(), history, args.repeat
    )
    trained_s, _ = _median_seconds(trained, history, args.repeat)
    result = {
        "model": trained.name,
        "stations": stations,
        "baseline_s": round(baseline_s, 4),
        "trained_s": round(trained_s, 4),
        "trained_to_baseline": round(trained_s / baseline_s, 1),
        "trained_ms_per_station_forecast": round(1000 * trained_s / stations, 3),
        "torch_threads": torch.get_num_threads(),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
