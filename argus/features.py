"""Village features on Dask, taken from each village's reference gauge.

Every feature is first computed once per gauge (a few hundred rows, numpy),
then gathered to the villages by integer gauge index inside Dask blocks along
the ``village`` dimension: no Python loop over villages. A village whose
reference gauge is missing, has no reading, or whose latest reading is older
than ``max_age_h`` at ``now`` is not ``usable``; its other features are still
filled where known so that an operator can see why.

Variables of the returned :class:`xarray.Dataset` (dimension ``village``, and
``lead_time_h`` for the forecast quantiles):

==========================  =====  ============================================
name                        unit   meaning
==========================  =====  ============================================
level_m                     m      latest accepted reading of the gauge
age_h                       h      ``now`` minus the time of that reading
rate_m_per_h                m/h    recent rate of change at the gauge
warning_level_m, ...        m      warning, danger, highest flood level
level_minus_warning_m       m      level minus warning level (likewise
                                   ``_danger_m`` and ``_hfl_m``)
forecast_max_p50_m          m      highest median forecast over the lead times
forecast_max_p90_m          m      highest 90 % forecast over the lead times
p50_reaches_danger_h        h      first lead time at which p50 >= danger level
p50_reaches_hfl_h           h      first lead time at which p50 >= highest
                                   flood level
p90_reaches_warning_h       h      first lead time at which p90 >= warning level
usable                      -      gauge exists, has a reading, 0 <= age <= max
p10_m, p50_m, p90_m         m      forecast quantiles (village, lead_time_h)
gauge_trust                 1      trust of the reference gauge (NaN: none)
fallback_forced             -      an operator forced the fallback sources
satellite_flooded_fraction  1      flooded share within the radius, newest
                                   scene with a known value
satellite_age_h             h      ``now`` minus that scene's acquisition
satellite_usable            -      known fraction, 0 <= age <= scene age limit
satellite_trust             1      trust of the satellite product
citizen_severity            -      median over distinct reporters, 0 NORMAL
                                   .. 3 EMERGENCY
citizen_reporters           -      distinct reporters in the time window
citizen_trust               1      trust of those reporters together
==========================  =====  ============================================

The variables from ``gauge_trust`` on come from the ``village_sources`` frame
(see :func:`argus.village_sources.village_sources`); without it they read as
"no such source".

NaN means unknown (no threshold, no forecast, or never reached). Coordinates:
``village`` (village ids), ``station_code`` (NaN without a gauge: xarray
stores None as NaN), ``lead_time_h``; attributes ``now`` (ISO 8601 UTC) and
``max_age_h``.
"""

from __future__ import annotations

import logging
from datetime import datetime

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

logger = logging.getLogger(__name__)

GAUGE_COLUMNS = (
    "station_code",
    "level_m",
    "observed_at",
    "rate_m_per_h",
    "warning_level_m",
    "danger_level_m",
    "highest_flood_level_m",
)
FORECAST_COLUMNS = ("station_code", "lead_time_h", "p10_m", "p50_m", "p90_m")
THRESHOLDS = {
    "warning": "warning_level_m",
    "danger": "danger_level_m",
    "hfl": "highest_flood_level_m",
}
# Per-village source variables and their value when the source has nothing.
SOURCE_DEFAULTS = {
    "gauge_trust": np.nan,
    "fallback_forced": False,
    "satellite_flooded_fraction": np.nan,
    "satellite_age_h": np.nan,
    "satellite_usable": False,
    "satellite_trust": np.nan,
    "citizen_severity": np.nan,
    "citizen_reporters": 0.0,
    "citizen_trust": 0.0,
}
# (quantile, threshold) pairs whose first crossing is a feature.
CROSSINGS = (("p50", "danger"), ("p50", "hfl"), ("p90", "warning"))


def build_features(
    villages_ref: pd.DataFrame,
    gauges: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    now: datetime,
    max_age_h: float = 6.0,
    chunk_villages: int = 131_072,
    village_sources: pd.DataFrame | None = None,
) -> xr.Dataset:
    """Build the features of every village, lazily on Dask.

    Parameters
    ----------
    villages_ref
        Columns ``village_id`` and ``station_code`` (reference gauge, None
        when none), e.g. :func:`argus.reference_gauges.assign_reference_gauges`.
    gauges
        One row per station: columns ``GAUGE_COLUMNS``; ``observed_at`` UTC;
        thresholds the contracts rejected are NaN.
    forecasts
        Columns ``FORECAST_COLUMNS``; ``lead_time_h`` [h], quantiles [m].
    now
        Time of the cycle, timezone-aware.
    max_age_h
        Oldest reading that keeps a gauge usable [h].
    chunk_villages
        Villages per Dask block.
    village_sources
        One row per village with the columns of ``SOURCE_DEFAULTS``.

    Returns
    -------
    xarray.Dataset
        Dask-backed variables as in the module docstring.
    """
    table = gauge_features(gauges, forecasts, now=now, max_age_h=max_age_h)
    index = _gauge_index(villages_ref, table)
    blocks = da.from_array(index, chunks=chunk_villages)
    data_vars = {
        name: (
            ("village", *variable.dims[1:]),
            _gather(blocks, _with_missing(variable)),
        )
        for name, variable in table.data_vars.items()
    }
    data_vars |= _source_variables(
        villages_ref["village_id"], village_sources, chunks=blocks.chunks
    )
    coords = {
        "village": villages_ref["village_id"].to_numpy(dtype=object),
        "station_code": ("village", villages_ref["station_code"].to_numpy(object)),
        "lead_time_h": table["lead_time_h"].to_numpy(),
    }
    logger.info(
        "features of %d villages from %d gauges (%d usable), %d lead times",
        len(index),
        table.sizes["gauge"],
        int(table["usable"].sum()),
        table.sizes["lead_time_h"],
    )
    return xr.Dataset(data_vars, coords=coords, attrs=table.attrs)


def _source_variables(
    village_ids: pd.Series, sources: pd.DataFrame | None, *, chunks
) -> dict[str, tuple[tuple[str], da.Array]]:
    """Per-village source columns as Dask arrays aligned with the villages."""
    if sources is None:
        sources = pd.DataFrame({"village_id": village_ids})
    aligned = sources.drop_duplicates("village_id").set_index("village_id")
    aligned = aligned.reindex(village_ids.to_numpy())
    variables = {}
    for name, default in SOURCE_DEFAULTS.items():
        if name in aligned:
            values = aligned[name].to_numpy(dtype=object)
        else:
            values = np.full(len(aligned), default, dtype=object)
        values[pd.isna(values)] = default
        values = values.astype(type(default))
        variables[name] = (("village",), da.from_array(values, chunks=chunks))
    return variables


def gauge_features(
    gauges: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    now: datetime,
    max_age_h: float = 6.0,
) -> xr.Dataset:
    """Compute the features of each gauge (dimension ``gauge``) in numpy.

    Same variables as :func:`build_features`, indexed by ``gauge`` (station
    codes) instead of ``village``.
    """
    now_utc = _as_utc(now)
    _require(gauges, GAUGE_COLUMNS, "gauges")
    _require(forecasts, FORECAST_COLUMNS, "forecasts")
    gauges = gauges.drop_duplicates("station_code", keep="last")
    codes = gauges["station_code"].to_numpy(dtype=object)
    values = {
        name: gauges[name].to_numpy(dtype="float64") for name in GAUGE_COLUMNS[3:]
    }
    values["level_m"] = gauges["level_m"].to_numpy(dtype="float64")
    observed_at = pd.to_datetime(gauges["observed_at"], utc=True)
    values["age_h"] = ((now_utc - observed_at) / pd.Timedelta(hours=1)).to_numpy(
        dtype="float64", na_value=np.nan
    )
    for key, column in THRESHOLDS.items():
        values[f"level_minus_{key}_m"] = values["level_m"] - values[column]
    usable = ~np.isnan(values["level_m"]) & (values["age_h"] >= 0)
    usable &= values["age_h"] <= max_age_h
    leads, quantiles = _forecast_grid(forecasts, codes)
    data_vars = {name: ("gauge", array) for name, array in values.items()}
    data_vars |= _forecast_features(leads, quantiles, values)
    data_vars["usable"] = ("gauge", usable)
    data_vars |= {f"{q}_m": (("gauge", "lead_time_h"), a) for q, a in quantiles.items()}
    attrs = {"now": now_utc.isoformat(), "max_age_h": float(max_age_h)}
    coords = {"gauge": codes, "lead_time_h": leads}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _forecast_grid(
    forecasts: pd.DataFrame, codes: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Quantiles as (gauge, lead time) arrays; NaN where no forecast."""
    leads = np.unique(forecasts["lead_time_h"].to_numpy(dtype="float64"))
    row = pd.Index(codes).get_indexer(forecasts["station_code"])
    col = np.searchsorted(leads, forecasts["lead_time_h"].to_numpy(dtype="float64"))
    known = row >= 0
    quantiles = {}
    for name in ("p10", "p50", "p90"):
        grid = np.full((len(codes), len(leads)), np.nan)
        grid[row[known], col[known]] = forecasts[f"{name}_m"].to_numpy(dtype="float64")[
            known
        ]
        quantiles[name] = grid
    return leads, quantiles


def _forecast_features(
    leads: np.ndarray, quantiles: dict[str, np.ndarray], values: dict[str, np.ndarray]
) -> dict[str, tuple[str, np.ndarray]]:
    features = {}
    for name in ("p50", "p90"):
        grid = quantiles[name]
        peak = (
            np.fmax.reduce(grid, axis=1) if len(leads) else np.full(len(grid), np.nan)
        )
        features[f"forecast_max_{name}_m"] = ("gauge", peak)
    for name, key in CROSSINGS:
        threshold = values[THRESHOLDS[key]]
        reached = quantiles[name] >= threshold[:, None]
        first = (
            leads[reached.argmax(axis=1)]
            if len(leads)
            else np.full(len(threshold), np.nan)
        )
        features[f"{name}_reaches_{key}_h"] = (
            "gauge",
            np.where(reached.any(axis=1), first, np.nan),
        )
    return features


def _gauge_index(villages_ref: pd.DataFrame, table: xr.Dataset) -> np.ndarray:
    """Row of each village's gauge in ``table``; the extra last row when none."""
    _require(villages_ref, ("village_id", "station_code"), "villages_ref")
    index = pd.Index(table["gauge"].to_numpy()).get_indexer(
        villages_ref["station_code"]
    )
    return np.where(index >= 0, index, table.sizes["gauge"])


def _with_missing(variable: xr.DataArray) -> np.ndarray:
    """Append one last row for 'no gauge' (NaN, or False) to a gauge table."""
    values = variable.to_numpy()
    fill = False if values.dtype == bool else np.nan
    pad = np.full((1, *values.shape[1:]), fill, dtype=values.dtype)
    return np.concatenate([values, pad])


def _gather(index: da.Array, table: np.ndarray) -> da.Array:
    if table.ndim == 1:
        return index.map_blocks(_take, table=table, dtype=table.dtype)
    chunks = (index.chunks[0], (table.shape[1],))
    return index.map_blocks(
        _take, table=table, dtype=table.dtype, chunks=chunks, new_axis=1
    )


def _take(index: np.ndarray, *, table: np.ndarray) -> np.ndarray:
    return table[index]


def _as_utc(now: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is None:
        raise ValueError(
            f"now={now!r} has no time zone; pass an aware time such as "
            "datetime.now(timezone.utc)"
        )
    return stamp.tz_convert("UTC")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing!r}; expected {columns!r}")
