"""Time the features, predict and level stages of one cycle for many villages.

Villages: the OpenStreetMap settlements of ``geo/assam_osm_places.json``
(1,534), replicated with coordinates jittered by up to 0.05 degrees and unique
ids for the larger sizes. Gauges: the recorded CWC hourly levels as of
2026-08-01 12:00 IST, thresholds from ``stations_assam.json``. Reference gauges
are assigned before the clock starts (they change when the registry changes,
not every cycle); their time is printed as ``assign_seconds``.

Stages:

- features: gauge summary, :func:`argus.features.build_features` and computing
  every variable on a local Dask cluster;
- predict: :meth:`PersistenceTrendForecaster.predict` on the gauges;
- levels: :func:`models.village_levels.decide_levels`.

``predict_to_bare_ratio`` is the predict stage over a call of the forecaster's
array core (:meth:`forecast_arrays`) on the same prepared grid. Each stage is
timed ``--repeat`` times and the median kept.

Usage: ``python -m bench.cycle --json --sizes 1534 26405 640000``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from argus.compute import dask_client
from argus.features import build_features
from argus.reference_gauges import assign_reference_gauges
from argus.stations import normalise_station_code, read_stations_file
from argus.villages import read_osm_places
from models.baseline import PersistenceTrendForecaster, hourly_grid, summarise_gauges
from models.village_levels import decide_levels

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOW = pd.Timestamp("2026-08-01 12:00", tz="Asia/Kolkata").tz_convert("UTC")
SIZES = (1_534, 26_405, 640_000)
JITTER_DEG = 0.05


def replicate(villages: pd.DataFrame, size: int, *, seed: int = 7) -> pd.DataFrame:
    """``size`` villages: the real ones first, then jittered copies."""
    if size <= len(villages):
        return villages.iloc[:size].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    copy = np.arange(size) // len(villages)
    frame = villages.iloc[np.arange(size) % len(villages)].reset_index(drop=True)
    jitter = rng.uniform(-JITTER_DEG, JITTER_DEG, size=(size, 2)) * (copy > 0)[:, None]
    frame["lat"] = frame["lat"] + jitter[:, 0]
    frame["lon"] = frame["lon"] + jitter[:, 1]
    frame["village_id"] = frame["village_id"] + np.where(
        copy > 0, "#" + copy.astype(str), ""
    )
    return frame


def load_history(data: Path) -> pd.DataFrame:
    """Recorded hourly levels as ``station_code, observed_at, level_m``."""
    raw = pd.read_csv(data / "cwc_ffs" / "hourly_levels.csv")
    return pd.DataFrame(
        {
            "station_code": raw["cwc_station_code"].map(normalise_station_code),
            "observed_at": pd.to_datetime(raw["observed_at"], utc=True),
            "level_m": raw["level_m"].astype("float64"),
        }
    )


def median_seconds(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls [s] and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_size(size: int, inputs: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Time the three stages for ``size`` villages."""
    villages = replicate(inputs["villages"], size)
    assign_s, refs = median_seconds(
        lambda: assign_reference_gauges(villages, inputs["stations"]), 1
    )
    model = PersistenceTrendForecaster()
    predict_s, forecasts = median_seconds(
        lambda: model.predict(inputs["history"], issued_at=NOW), repeat
    )
    grid = hourly_grid(inputs["history"], issued_at=NOW, window_h=model.spread_window_h)
    leads = np.arange(1, 25)
    bare_s, _ = median_seconds(
        lambda: model.forecast_arrays(grid.levels_m, grid.age_h, leads), repeat * 10
    )

    def features() -> Any:
        gauges = summarise_gauges(inputs["history"], inputs["stations"], now=NOW)
        return build_features(refs, gauges, forecasts, now=NOW).compute()

    features_s, dataset = median_seconds(features, repeat)
    levels_s, levels = median_seconds(lambda: decide_levels(dataset), repeat)
    stages = {"features": features_s, "predict": predict_s, "levels": levels_s}
    return {
        "villages": size,
        "stage_seconds": {k: round(v, 4) for k, v in stages.items()},
        "villages_per_second": round(size / sum(stages.values())),
        "predict_to_bare_ratio": round(predict_s / bare_s, 1),
        "assign_seconds": round(assign_s, 3),
        "levels_count": levels["level"].value_counts().to_dict(),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--json``, ``--sizes``, ``--repeat``, ``--data``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    inputs = {
        "villages": read_osm_places(args.data / "geo" / "assam_osm_places.json"),
        "stations": read_stations_file(args.data / "cwc_ffs" / "stations_assam.json"),
        "history": load_history(args.data),
    }
    with dask_client():
        for size in args.sizes:
            result = run_size(size, inputs, args.repeat)
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                stages = ", ".join(
                    f"{k} {v:.3f} s" for k, v in result["stage_seconds"].items()
                )
                rate = result["villages_per_second"]
                print(f"{size:>9,d} villages: {stages}; {rate:,d} villages/s")


if __name__ == "__main__":
    main()
