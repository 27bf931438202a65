"""Flooded fraction of a flood-extent raster around many points at once.

For every point, the cells whose centres lie within ``radius_km`` are taken
(distances on a sphere of radius 6371.0088 km, the IUGG mean Earth radius,
with the longitude spacing shrunk by the cosine of the point's latitude).
Nodata cells, cells outside the raster and values outside the variable's
range are not counted as dry: the fraction is the mean over valid cells, and
``valid_fraction`` is the share of the circle those cells cover. Below
``min_valid_fraction`` the flooded fraction is unknown (NaN).

The work is numpy over blocks of points: for each block, the cells of the
window around every point are gathered with one fancy index.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from argus.sources.satellite import FloodGrid

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
FRACTION_COLUMNS = ("flooded_fraction", "valid_fraction", "cells")


def flooded_fraction_near(
    grid: FloodGrid,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    radius_km: float,
    min_valid_fraction: float = 0.5,
    block: int = 512,
) -> pd.DataFrame:
    """Compute the flooded fraction within ``radius_km`` of each point.

    Parameters
    ----------
    grid
        Flood-extent raster in EPSG:4326.
    lon, lat
        Point coordinates [degrees].
    radius_km
        Radius of the circle around each point [km].
    min_valid_fraction
        Smallest share of the circle with valid cells for a known fraction [1].
    block
        Points per numpy block (bounds the memory of the gathered windows).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``flooded_fraction`` [1] (NaN when unknown),
        ``valid_fraction`` [1] and ``cells`` (cells in the circle).
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    parts = [
        _block_fractions(
            grid,
            lon[start : start + block],
            lat[start : start + block],
            radius_km=radius_km,
        )
        for start in range(0, len(lon), block)
    ]
    if parts:
        flooded, valid, cells = (np.concatenate(p) for p in zip(*parts, strict=True))
    else:
        flooded = valid = cells = np.empty(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(cells > 0, valid / cells, 0.0)
        mean = flooded / valid
    known = (valid > 0) & (fraction >= min_valid_fraction)
    return pd.DataFrame(
        {
            "flooded_fraction": np.where(known, mean, np.nan),
            "valid_fraction": fraction,
            "cells": cells.astype("int64"),
        }
    )


def _block_fractions(
    grid: FloodGrid, lon: np.ndarray, lat: np.ndarray, *, radius_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums of flooded fraction, valid cells and circle cells for one block."""
    # A point without coordinates lands far off the grid and gets no cells.
    row = np.nan_to_num((lat - grid.lat0) / grid.dlat, nan=-1e9)
    col = np.nan_to_num((lon - grid.lon0) / grid.dlon, nan=-1e9)
    cell_y_km = abs(grid.dlat) * KM_PER_DEGREE
    cell_x_km = abs(grid.dlon) * KM_PER_DEGREE * np.cos(np.radians(lat))
    half_rows = math.ceil(radius_km / cell_y_km) + 1
    finite = np.isfinite(cell_x_km) & (cell_x_km > 0)
    half_cols = math.ceil(radius_km / np.min(cell_x_km[finite], initial=np.inf)) + 1
    if not np.isfinite(half_cols):
        half_cols = 1
    offsets_r = np.arange(-half_rows, half_rows + 1)
    offsets_c = np.arange(-half_cols, half_cols + 1)

    # Cell indices of every window, and their centres' distances in km.
    rows = np.floor(row)[:, None, None] + offsets_r[None, :, None]
    cols = np.floor(col)[:, None, None] + offsets_c[None, None, :]
    dy_km = (rows + 0.5 - row[:, None, None]) * cell_y_km
    dx_km = (cols + 0.5 - col[:, None, None]) * cell_x_km[:, None, None]
    inside_circle = dy_km**2 + dx_km**2 <= radius_km**2
    height, width = grid.values.shape
    on_grid = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)

    safe_rows = np.clip(rows, 0, height - 1).astype("int64")
    safe_cols = np.clip(cols, 0, width - 1).astype("int64")
    values = grid.values[safe_rows, safe_cols].astype("float64")
    valid = inside_circle & on_grid & grid.valid_mask(values)
    flooded = np.where(valid, values * grid.scale, 0.0)
    return (
        flooded.sum(axis=(1, 2)),
        valid.sum(axis=(1, 2)).astype("float64"),
        inside_circle.sum(axis=(1, 2)).astype("float64"),
    )
