"""The reference gauge of each village: which CWC level station speaks for it.

Rule, applied to every village at once:

1. Candidate stations are those with a danger level (``danger_level_m`` not
   NaN) and coordinates, and not of type ``Inflow`` (a reservoir inflow, when
   the frame has ``station_type``); a station without a danger level cannot
   tell a village it is in danger.
2. Distances are great-circle (haversine) distances; a candidate farther than
   ``max_distance_km`` (25 km by default) is not used.
3. When a candidate within the limit lies in the village's own revenue circle
   (names compared without case or surrounding spaces), the nearest such one is
   chosen: rule ``"same_revenue_circle"``. Revenue circles are the units ASDMA
   reports and relief is organised by.
4. Otherwise the nearest candidate within the limit: rule ``"nearest"``.
5. Otherwise none: ``station_code`` None, ``distance_km`` NaN, rule
   ``"none_within_<limit>_km"``. Such a village is unmonitored, never normal.

Ties are broken by station order after sorting by ``station_code``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# Mean Earth radius (IUGG, Moritz 2000) [km].
EARTH_RADIUS_KM = 6371.0088
ASSIGNMENT_COLUMNS = ("village_id", "station_code", "distance_km", "rule")


def assign_reference_gauges(
    villages: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    max_distance_km: float = 25.0,
    chunk_villages: int = 20_000,
) -> pd.DataFrame:
    """Assign each village its reference gauge.

    Parameters
    ----------
    villages
        Columns ``village_id``, ``lat``, ``lon`` [degrees], ``revenue_circle``.
    stations
        Columns ``station_code``, ``lat``, ``lon`` [degrees],
        ``revenue_circle``, ``danger_level_m`` [m].
    max_distance_km
        Farthest usable station [km].
    chunk_villages
        Villages per distance block; memory is about
        ``chunk_villages * n_stations * 40`` bytes.

    Returns
    -------
    pandas.DataFrame
        Columns ``ASSIGNMENT_COLUMNS``, one row per village in input order;
        ``distance_km`` [km].
    """
    if max_distance_km <= 0 or chunk_villages < 1:
        raise ValueError(
            f"max_distance_km={max_distance_km!r} and chunk_villages="
            f"{chunk_villages!r} must be positive"
        )
    candidates = _candidates(stations)
    circles = _circle_codes(villages["revenue_circle"], candidates["revenue_circle"])
    village_circle, station_circle = circles
    lat = villages["lat"].to_numpy(dtype="float64")
    lon = villages["lon"].to_numpy(dtype="float64")
    chosen = np.full(len(villages), -1, dtype="int64")
    distance_km = np.full(len(villages), np.nan)
    same = np.zeros(len(villages), dtype=bool)
    if candidates.empty:
        logger.warning("no station has a danger level: every village is unmonitored")
    n_searched = len(villages) if len(candidates) else 0
    for start in range(0, n_searched, chunk_villages):
        part = slice(start, start + chunk_villages)
        chosen[part], distance_km[part], same[part] = _choose(
            lat[part],
            lon[part],
            village_circle[part],
            candidates,
            station_circle,
            max_distance_km,
        )
    return _assignment_frame(
        villages, candidates, chosen, distance_km, same, max_distance_km
    )


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance between points [km]; arrays broadcast [degrees]."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlam = np.radians(lon2 - lon1) / 2
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlam) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _candidates(stations: pd.DataFrame) -> pd.DataFrame:
    usable = stations["danger_level_m"].notna() & stations["lat"].notna()
    usable &= stations["lon"].notna()
    if "station_type" in stations:
        usable &= stations["station_type"].ne("Inflow")  # reservoir inflow, no level
    candidates = stations.loc[usable].sort_values("station_code", kind="stable")
    logger.info(
        "%d of %d stations have a danger level and coordinates",
        len(candidates),
        len(stations),
    )
    return candidates.reset_index(drop=True)


def _circle_codes(
    village_circles: pd.Series, station_circles: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of normalised revenue-circle names; -1 for none."""
    keys = pd.concat([village_circles, station_circles], ignore_index=True)
    keys = keys.astype("string").str.strip().str.casefold().replace("", pd.NA)
    codes, _ = pd.factorize(keys, use_na_sentinel=True)
    return codes[: len(village_circles)], codes[len(village_circles) :]


def _choose(
    lat: np.ndarray,
    lon: np.ndarray,
    village_circle: np.ndarray,
    candidates: pd.DataFrame,
    station_circle: np.ndarray,
    max_distance_km: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s_lat = candidates["lat"].to_numpy(dtype="float64")
    s_lon = candidates["lon"].to_numpy(dtype="float64")
    distance = haversine_km(lat[:, None], lon[:, None], s_lat[None, :], s_lon[None, :])
    distance[distance > max_distance_km] = np.inf
    in_circle = (village_circle[:, None] == station_circle[None, :]) & (
        village_circle[:, None] >= 0
    )
    circle_distance = np.where(in_circle, distance, np.inf)
    rows = np.arange(len(lat))
    best_circle = circle_distance.argmin(axis=1)
    same = np.isfinite(circle_distance[rows, best_circle])
    chosen = np.where(same, best_circle, distance.argmin(axis=1))
    chosen_km = distance[rows, chosen]
    found = np.isfinite(chosen_km)
    return np.where(found, chosen, -1), np.where(found, chosen_km, np.nan), same


def _assignment_frame(
    villages: pd.DataFrame,
    candidates: pd.DataFrame,
    chosen: np.ndarray,
    distance_km: np.ndarray,
    same: np.ndarray,
    max_distance_km: float,
) -> pd.DataFrame:
    codes = np.append(candidates["station_code"].to_numpy(dtype=object), None)
    none_rule = f"none_within_{max_distance_km:g}_km"
    rule = np.select(
        [same, chosen >= 0], ["same_revenue_circle", "nearest"], default=none_rule
    )
    frame = pd.DataFrame(
        {
            "village_id": villages["village_id"].to_numpy(),
            "station_code": pd.Series(codes[chosen], dtype=object),
            "distance_km": distance_km,
            "rule": rule,
        }
    )
    logger.info(
        "reference gauges: %d villages, %d same revenue circle, %d nearest, %d none "
        "within %g km",
        len(frame),
        int(same.sum()),
        int(((chosen >= 0) & ~same).sum()),
        int((chosen < 0).sum()),
        max_distance_km,
    )
    return frame
