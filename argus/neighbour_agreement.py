"""Agreement of a gauge with its neighbours on the same river.

Gauges on one river within ``NEIGHBOUR_DISTANCE_KM`` of each other see the
same flood wave, so over a few hours their levels move in the same direction
by similar amounts. A gauge whose change over ``CHANGE_SPAN`` differs from the
median change of its neighbours by more than ``NEIGHBOUR_TOLERANCE_M``
disagrees with them, which lowers its trust.

NOTE: the distance and tolerance are judgment, not fitted: a tributary's
flash flood can move one gauge by a metre in hours while the main stem stays
calm, so disagreement halves the trust target instead of zeroing it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from argus.reports import haversine_km

NEIGHBOUR_DISTANCE_KM = 150.0
NEIGHBOUR_TOLERANCE_M = 1.0
CHANGE_SPAN = timedelta(hours=6)
AGREEMENT_COLUMNS = ("station_code", "change_m", "neighbours", "neighbour_change_m")


def level_changes(history: pd.DataFrame, *, until: datetime) -> pd.DataFrame:
    """Compute each gauge's level change [m] over ``CHANGE_SPAN`` before ``until``.

    ``history`` has ``station_code``, ``observed_at`` and ``level_m``. The
    change is the newest reading minus the oldest one in the span, so a gauge
    needs two readings there.
    """
    since = pd.Timestamp(until) - CHANGE_SPAN
    window = history[
        (history["observed_at"] > since) & (history["observed_at"] <= until)
    ]
    window = window.sort_values(["station_code", "observed_at"])
    grouped = window.groupby("station_code")["level_m"]
    changes = (grouped.last() - grouped.first())[grouped.size() >= 2]
    return changes.rename("change_m").reset_index()


def neighbour_agreement(
    changes: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    distance_km: float = NEIGHBOUR_DISTANCE_KM,
) -> pd.DataFrame:
    """Compare each gauge's change with the median change of its neighbours.

    Parameters
    ----------
    changes
        ``station_code`` and ``change_m`` [m], from :func:`level_changes`.
    stations
        ``station_code``, ``river``, ``lat`` and ``lon`` [degrees].
    distance_km
        Farthest neighbour on the same river [km].

    Returns
    -------
    pandas.DataFrame
        Columns ``AGREEMENT_COLUMNS``: ``neighbours`` counted, and their
        median change (NaN without neighbours).
    """
    frame = changes.merge(
        stations[["station_code", "river", "lat", "lon"]], on="station_code"
    )
    river = frame["river"].fillna("").astype(str).str.strip().str.casefold()
    lat = frame["lat"].to_numpy(float)
    lon = frame["lon"].to_numpy(float)
    distance = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    same_river = (river.to_numpy()[:, None] == river.to_numpy()[None, :]) & (
        river.to_numpy()[:, None] != ""
    )
    near = same_river & (distance <= distance_km)
    np.fill_diagonal(near, False)

    change = frame["change_m"].to_numpy(float)
    masked = np.where(near, change[None, :], np.nan)
    counts = near.sum(axis=1)
    with np.errstate(all="ignore"):
        medians = np.full(len(frame), np.nan)
        has = counts > 0
        medians[has] = np.nanmedian(masked[has], axis=1)
    return pd.DataFrame(
        {
            "station_code": frame["station_code"],
            "change_m": change,
            "neighbours": counts,
            "neighbour_change_m": medians,
        }
    )
