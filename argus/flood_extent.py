"""Flooded fraction of a flood-extent raster around many points at once.

For every point, the cells whose centres lie within ``radius_km`` are taken
(distances on a sphere of radius 6371.0088 km, the IUGG mean Earth radius,
with the longitude spacing shrunk by the cosine of the point's latitude).
Nodata cells, cells outside the raster and values outside the variable's
range are not counted as dry: the fraction is the mean over valid cells, and
``valid_fraction`` is the share of the circle those cells cover. Below
``min_valid_fraction`` the flooded fraction is unknown (NaN).

The work is numpy over all points of a band of raster rows at once, with one
step per raster row of the circle (see :func:`_band_sums`).
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
    band_rows: int = 256,
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
    band_rows
        Raster rows of points handled together (bounds the memory of the
        prefix sums to about ``band_rows`` plus the circle's rows times the
        raster width).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``flooded_fraction`` [1] (NaN when unknown),
        ``valid_fraction`` [1] and ``cells`` (cells in the circle).
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    # A point without coordinates lands far off the grid and gets no cells.
    row = np.nan_to_num((lat - grid.lat0) / grid.dlat, nan=-1e9)
    col = np.nan_to_num((lon - grid.lon0) / grid.dlon, nan=-1e9)
    cell_x_km = abs(grid.dlon) * KM_PER_DEGREE * np.cos(np.radians(lat))
    cell_x_km = np.where(np.isfinite(cell_x_km) & (cell_x_km > 0), cell_x_km, 1.0)

    flooded = np.zeros(len(lon))
    valid = np.zeros(len(lon))
    cells = np.zeros(len(lon))
    bands = np.floor(np.clip(row, -1, grid.values.shape[0]) / band_rows)
    for band in np.unique(bands):
        members = np.flatnonzero(bands == band)
        flooded[members], valid[members], cells[members] = _band_sums(
            grid,
            row[members],
            col[members],
            cell_x_km[members],
            radius_km=radius_km,
        )

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


def _band_sums(
    grid: FloodGrid,
    row: np.ndarray,
    col: np.ndarray,
    cell_x_km: np.ndarray,
    *,
    radius_km: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum flooded fraction, valid cells and circle cells for points of one band.

    The circle is taken one raster row at a time: in each row, the cells whose
    centres lie within the radius form one run of columns. When points are
    dense, a run's total comes from prefix sums along the band's rows (two
    lookups). When they are sparse, its cells are gathered instead. The way
    that reads fewer cells is chosen per band.
    """
    height, width = grid.values.shape
    cell_y_km = abs(grid.dlat) * KM_PER_DEGREE
    half_rows = math.ceil(radius_km / cell_y_km) + 1
    run_max = 2 * math.ceil(radius_km / cell_x_km.min()) + 3
    first_row = np.floor(row).astype("int64")
    top = int(np.clip(first_row.min() - half_rows, 0, height))
    bottom = int(np.clip(first_row.max() + half_rows + 1, 0, height))
    gathered_cells = len(row) * (2 * half_rows + 1) * run_max
    # Prefix sums pass over each band cell about three times (mask, two sums).
    prefix = gathered_cells > 3 * (bottom - top) * width
    if prefix:
        sums_flooded, sums_valid = _row_prefix_sums(grid, top, bottom)

    flooded = np.zeros(len(row))
    valid = np.zeros(len(row))
    cells = np.zeros(len(row))
    for offset in range(-half_rows, half_rows + 1):
        rows = first_row + offset
        dy_km = (rows + 0.5 - row) * cell_y_km
        reach = np.sqrt(np.clip(radius_km**2 - dy_km**2, 0, None)) / cell_x_km
        inside = np.abs(dy_km) <= radius_km
        # Columns c with |c + 0.5 - col| <= reach, as a run [start, stop).
        start = np.ceil(col - 0.5 - reach).astype("int64")
        stop = np.floor(col - 0.5 + reach).astype("int64") + 1
        cells += np.where(inside, np.maximum(stop - start, 0), 0)

        on_grid = inside & (rows >= top) & (rows < bottom)
        start = np.clip(start, 0, width)
        stop = np.clip(stop, start, width)
        if not on_grid.any():
            continue
        if prefix:
            band_row = np.clip(rows - top, 0, bottom - top - 1)
            run_flooded = sums_flooded[band_row, stop] - sums_flooded[band_row, start]
            run_valid = sums_valid[band_row, stop] - sums_valid[band_row, start]
        else:
            run_flooded, run_valid = _gathered_runs(grid, rows, start, stop, run_max)
        flooded += np.where(on_grid, run_flooded, 0.0)
        valid += np.where(on_grid, run_valid, 0)
    return flooded, valid, cells


def _gathered_runs(
    grid: FloodGrid,
    rows: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    run_max: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum flooded fraction and valid cells over one run of columns per point."""
    height, width = grid.values.shape
    cols = start[:, None] + np.arange(run_max)[None, :]
    in_run = cols < stop[:, None]
    values = grid.values[
        np.clip(rows, 0, height - 1)[:, None], np.clip(cols, 0, width - 1)
    ]
    valid = in_run & grid.valid_mask(values)
    flooded = np.where(valid, values, 0).sum(axis=1) * grid.scale
    return flooded, valid.sum(axis=1)


def _row_prefix_sums(
    grid: FloodGrid, top: int, bottom: int
) -> tuple[np.ndarray, np.ndarray]:
    """Compute prefix sums along each row of flooded fraction [1] and valid cells."""
    values = grid.values[top:bottom]
    valid = grid.valid_mask(values)
    integer = np.issubdtype(values.dtype, np.integer)
    flood_codes = np.where(valid, values, 0)
    shape = (bottom - top, grid.values.shape[1] + 1)
    sums_flooded = np.zeros(shape, dtype="int64" if integer else "float64")
    sums_valid = np.zeros(shape, dtype="int64")
    np.cumsum(flood_codes, axis=1, out=sums_flooded[:, 1:])
    np.cumsum(valid, axis=1, out=sums_valid[:, 1:])
    return sums_flooded * grid.scale, sums_valid
