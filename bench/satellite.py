"""Time the flooded fraction around many villages on a real Bhuvan layer.

Villages: the OpenStreetMap settlements of ``geo/assam_osm_places.json``,
replicated with jittered coordinates for the larger sizes (as in
``bench/cycle.py``). Raster: ``satellite/bhuvan_inundation_as_2023_07_07_18.tif``
(6,080 x 9,216 cells of about 76 m).

Timed, each the median of ``--repeat`` runs:

- read: :func:`argus.sources.satellite.read_flood_grid` (decompress the file);
- vectorised: :func:`argus.flood_extent.flooded_fraction_near` for all villages;
- loop: the baseline, one village at a time with the same window arithmetic
  written as a plain Python loop over villages (run on at most
  ``--loop-max`` villages and scaled per village).

``speedup`` is loop seconds per village over vectorised seconds per village,
measured in the same run.

Usage: ``python -m bench.satellite --json --sizes 1794 26405 200000``
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from argus.flood_extent import KM_PER_DEGREE, flooded_fraction_near
from argus.sources.satellite import FloodGrid, declare_product, read_flood_grid
from bench.cycle import replicate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LAYER = DATA / "satellite" / "bhuvan_inundation_as_2023_07_07_18.tif"
SIZES = (1_794, 26_405, 200_000)
RADIUS_KM = 2.0


def load_places() -> pd.DataFrame:
    places = json.loads((DATA / "geo" / "assam_osm_places.json").read_text())
    return pd.DataFrame(
        {
            "village_id": [p["osm_id"] for p in places["places"]],
            "lon": [p["centre"][0] for p in places["places"]],
            "lat": [p["centre"][1] for p in places["places"]],
        }
    )


def loop_fraction(grid: FloodGrid, lon: float, lat: float) -> float:
    """Compute the flooded fraction around one point from its own cell window."""
    row = (lat - grid.lat0) / grid.dlat
    col = (lon - grid.lon0) / grid.dlon
    cell_y = abs(grid.dlat) * KM_PER_DEGREE
    cell_x = abs(grid.dlon) * KM_PER_DEGREE * math.cos(math.radians(lat))
    half_rows = math.ceil(RADIUS_KM / cell_y) + 1
    half_cols = math.ceil(RADIUS_KM / cell_x) + 1
    rows = np.arange(math.floor(row) - half_rows, math.floor(row) + half_rows + 1)
    cols = np.arange(math.floor(col) - half_cols, math.floor(col) + half_cols + 1)
    rows = rows[(rows >= 0) & (rows < grid.values.shape[0])]
    cols = cols[(cols >= 0) & (cols < grid.values.shape[1])]
    dy = (rows[:, None] + 0.5 - row) * cell_y
    dx = (cols[None, :] + 0.5 - col) * cell_x
    window = grid.values[np.ix_(rows, cols)].astype("float64")
    valid = (dy**2 + dx**2 <= RADIUS_KM**2) & grid.valid_mask(window)
    count = valid.sum()
    return float(window[valid].sum() * grid.scale / count) if count else math.nan


def median_seconds(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(sizes: tuple[int, ...], *, repeat: int, loop_max: int) -> list[dict]:
    product = declare_product(LAYER)
    read_s, grid = median_seconds(lambda: read_flood_grid(product), repeat)
    places = load_places()
    results = []
    for size in sizes:
        villages = replicate(places, size)
        lon = villages["lon"].to_numpy()
        lat = villages["lat"].to_numpy()
        vector_s, fractions = median_seconds(
            lambda lon=lon, lat=lat: flooded_fraction_near(
                grid, lon, lat, radius_km=RADIUS_KM
            ),
            repeat,
        )
        sample = min(size, loop_max)
        loop_s, looped = median_seconds(
            lambda sample=sample, lon=lon, lat=lat: [
                loop_fraction(grid, lon[i], lat[i]) for i in range(sample)
            ],
            repeat,
        )
        difference = np.nanmax(
            np.abs(np.array(looped) - fractions["flooded_fraction"].to_numpy()[:sample])
        )
        results.append(
            {
                "villages": size,
                "read_seconds": round(read_s, 3),
                "vectorised_seconds": round(vector_s, 3),
                "villages_per_second": round(size / vector_s),
                "loop_villages_timed": sample,
                "loop_seconds_per_village": loop_s / sample,
                "speedup": round((loop_s / sample) / (vector_s / size), 1),
                "max_abs_difference": float(difference),
                "flooded_villages": int((fractions["flooded_fraction"] > 0).sum()),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-max", type=int, default=2_000)
    parser.add_argument("--json", action="store_true", help="Print JSON lines.")
    args = parser.parse_args()
    for result in run(tuple(args.sizes), repeat=args.repeat, loop_max=args.loop_max):
        print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
