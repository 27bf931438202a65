"""Upstream gauges of each station, found in the data rather than typed by hand.

A gauge ``j`` is a candidate upstream of ``i`` when both lie on the same river
(CWC's river name, compared case- and space-insensitively) or within
``max_distance_km`` of each other, and ``j``'s median water level is higher:
CWC levels are metres above mean sea level, and water flows downhill. Among
the candidates, the ones whose hourly level changes best predict ``i``'s
changes ``lag`` hours later (Pearson correlation, lag 1..``max_lag_h``) are
kept, at most ``max_upstream``, each with its best lag and correlation.

NOTE: a gauge with a wrong datum (CWC has several) can look upstream or
downstream by mistake; the correlation threshold drops most such pairs.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0


def hourly_table(levels: pd.DataFrame) -> pd.DataFrame:
    """Levels as an hour x station table [m]; the later reading of an hour wins."""
    times = pd.to_datetime(levels["observed_at"], utc=True)
    frame = levels.assign(hour=times.dt.floor("h"), _t=times).sort_values("_t")
    table = frame.pivot_table(
        index="hour", columns="station_code", values="level_m", aggfunc="last"
    )
    full = pd.date_range(table.index.min(), table.index.max(), freq="h")
    return table.reindex(full)


def upstream_graph(
    levels: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    max_upstream: int = 2,
    max_lag_h: int = 24,
    min_correlation: float = 0.3,
    min_pairs: int = 48,
    max_distance_km: float = 150.0,
) -> dict[str, list[dict]]:
    """Find the upstream gauges of every station with levels.

    Parameters
    ----------
    levels
        Accepted levels: ``station_code``, ``observed_at``, ``level_m`` [m].
    stations
        Reference table with ``station_code``, ``river``, ``lat``, ``lon``.
    max_upstream
        Most upstream gauges kept per station.
    max_lag_h
        Maximum lag tried [h].
    min_correlation
        Smallest correlation of lagged hourly changes that counts.
    min_pairs
        Minimum number of overlapping hourly changes a correlation needs.
    max_distance_km
        Gauges closer than this are candidates even on different rivers [km].

    Returns
    -------
    dict
        Station code to a list of ``{"station_code", "lag_h", "correlation"}``,
        best first; stations without upstream gauges map to an empty list.
    """
    table = hourly_table(levels)
    changes = table.diff().to_numpy()
    codes = list(table.columns)
    median_level = np.nanmedian(table.to_numpy(), axis=0)
    candidates = _candidate_pairs(codes, stations, max_distance_km=max_distance_km)

    graph: dict[str, list[dict]] = {code: [] for code in codes}
    for i, code in enumerate(codes):
        found = []
        for j in candidates[i]:
            if not median_level[j] > median_level[i]:
                continue
            lag, corr = _best_lag(
                changes[:, i], changes[:, j], max_lag_h=max_lag_h, min_pairs=min_pairs
            )
            if corr >= min_correlation:
                found.append(
                    {"station_code": codes[j], "lag_h": lag, "correlation": corr}
                )
        found.sort(key=lambda edge: (-edge["correlation"], edge["station_code"]))
        graph[code] = found[:max_upstream]
    linked = sum(1 for edges in graph.values() if edges)
    logger.info(
        "upstream graph: %d of %d stations have upstream gauges", linked, len(codes)
    )
    return graph


def _candidate_pairs(
    codes: list[str], stations: pd.DataFrame, *, max_distance_km: float
) -> list[list[int]]:
    table = stations.set_index("station_code").reindex(codes)
    river = (
        table["river"]
        .fillna("")
        .astype(str)
        .str.lower()
        .str.replace(r"\s+", "", regex=True)
    )
    lat = np.radians(table["lat"].to_numpy(dtype=float))
    lon = np.radians(table["lon"].to_numpy(dtype=float))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = (
        np.sin(dlat / 2) ** 2
        + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    )
    distance_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    same_river = (river.to_numpy()[:, None] == river.to_numpy()[None, :]) & (
        river.to_numpy()[:, None] != ""
    )
    near = np.nan_to_num(distance_km, nan=np.inf) <= max_distance_km
    pairs = same_river | near
    np.fill_diagonal(pairs, False)
    return [list(np.flatnonzero(row)) for row in pairs]


def _best_lag(
    target: np.ndarray, source: np.ndarray, *, max_lag_h: int, min_pairs: int
) -> tuple[int, float]:
    """Lag [h] at which ``source``'s changes correlate best with ``target``'s later."""
    best_lag, best_corr = 0, -1.0
    for lag in range(1, max_lag_h + 1):
        x = source[:-lag]
        y = target[lag:]
        ok = ~(np.isnan(x) | np.isnan(y))
        if ok.sum() < min_pairs:
            continue
        x, y = x[ok], y[ok]
        if x.std() == 0 or y.std() == 0:
            continue
        corr = float(np.corrcoef(x, y)[0, 1])
        if corr > best_corr:
            best_lag, best_corr = lag, corr
    return best_lag, round(best_corr, 4)
