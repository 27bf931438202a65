"""Time the flood-risk step of a cycle against the CWC level rules it follows.

Same villages, gauges and cycle time as :mod:`bench.cycle`: the 1,534
OpenStreetMap settlements, replicated with jittered coordinates for the larger
sizes, and the recorded levels as of 2026-08-01 12:00 IST. The features are
computed before the clock starts. Timed, each the median of ``--repeat`` runs:

- levels: :func:`models.village_levels.decide_levels` (the baseline);
- risk: :func:`models.risk_levels.live_risk_features` and
  :func:`models.risk_levels.combine_levels` with the committed model, reasons
  with XGBoost contributions included;
- probability: the model's probability alone on the same rows (scored once
  per distinct bin row, see :class:`models.risk.RiskModel`);
- plain_probability: ``inplace_predict`` on every row, the cost without the
  binning.

``risk_to_levels_ratio`` is risk over levels in the same run. The exposure of
the villages (``argus villages exposure``) is computed once per registry
change, not per cycle; its time is printed as ``exposure_seconds``.

Usage: ``python -m bench.risk --json --sizes 1534 100000 1000000``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from argus.compute import dask_client
from argus.exposure import load_exposure_data, village_exposure
from argus.features import build_features
from argus.reference_gauges import assign_reference_gauges
from argus.stations import read_stations_file
from argus.villages import read_osm_places
from bench.cycle import DATA, NOW, load_history, median_seconds, replicate
from models.baseline import PersistenceTrendForecaster, summarise_gauges
from models.risk import RiskModel, default_artifact, feature_matrix
from models.risk_levels import combine_levels, live_risk_features
from models.village_levels import decide_levels

SIZES = (1_534, 100_000, 1_000_000)


def run_size(size: int, inputs: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Time the level rules and the risk step for ``size`` villages."""
    villages = replicate(inputs["villages"], size)
    refs = assign_reference_gauges(villages, inputs["stations"])
    forecasts = PersistenceTrendForecaster().predict(inputs["history"], issued_at=NOW)
    gauges = summarise_gauges(inputs["history"], inputs["stations"], now=NOW)
    features = build_features(refs, gauges, forecasts, now=NOW).compute()
    exposure_s, exposure = median_seconds(
        lambda: village_exposure(villages, inputs["exposure"]), 1
    )
    model = inputs["model"]

    levels_s, levels = median_seconds(lambda: decide_levels(features), repeat)

    def risk() -> Any:
        risk_features = live_risk_features(features, exposure, now=NOW)
        return combine_levels(levels, risk_features, model)

    risk_s, combined = median_seconds(risk, repeat)
    rows = live_risk_features(features, exposure, now=NOW)
    probability_s, _ = median_seconds(lambda: model.probability(rows), repeat)
    matrix = feature_matrix(rows)
    plain_s, _ = median_seconds(
        lambda: model.booster.inplace_predict(matrix, missing=np.nan), repeat
    )
    raised = combined["level"] != combined["hydrological_level"]
    return {
        "villages": size,
        "levels_seconds": round(levels_s, 4),
        "risk_seconds": round(risk_s, 4),
        "probability_seconds": round(probability_s, 4),
        "plain_probability_seconds": round(plain_s, 4),
        "distinct_bin_rows": len(model._distinct(matrix)[0]),
        "risk_to_levels_ratio": round(risk_s / levels_s, 2),
        "exposure_seconds": round(exposure_s, 3),
        "explained_villages": int(
            combined["level"].isin(["WATCH", "WARNING", "EMERGENCY"]).sum()
        ),
        "raised_villages": int(raised.sum()),
        "max_probability": round(float(combined["risk_probability"].max()), 3),
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
        "exposure": load_exposure_data(args.data),
        "model": RiskModel.load(default_artifact()),
    }
    with dask_client():
        for size in args.sizes:
            result = run_size(size, inputs, args.repeat)
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(
                    f"{size:>9,d} villages: levels {result['levels_seconds']:.3f} s, "
                    f"risk {result['risk_seconds']:.3f} s "
                    f"({result['risk_to_levels_ratio']}x)"
                )


if __name__ == "__main__":
    main()
