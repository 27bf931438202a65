"""Flooded fraction around villages on the real Bhuvan layers and hand-made grids."""

import json

import numpy as np
import pandas as pd
import pytest

from argus.flood_extent import flooded_fraction_near
from argus.reports import haversine_km
from argus.sources.satellite import FloodGrid, declare_product, read_flood_grid


@pytest.fixture(scope="module")
def places(shared_data) -> pd.DataFrame:
    data = json.loads((shared_data / "geo" / "assam_osm_places.json").read_text())
    return pd.DataFrame(
        {
            "osm_id": [p["osm_id"] for p in data["places"]],
            "lon": [p["centre"][0] for p in data["places"]],
            "lat": [p["centre"][1] for p in data["places"]],
        }
    )


@pytest.fixture(scope="module")
def grid_2016(shared_data) -> FloodGrid:
    path = shared_data / "satellite" / "bhuvan_inundation_as_2016_26_04_18.tif"
    return read_flood_grid(declare_product(path))


@pytest.fixture(scope="module")
def grid_2023(shared_data) -> FloodGrid:
    path = shared_data / "satellite" / "bhuvan_inundation_as_2023_07_07_18.tif"
    return read_flood_grid(declare_product(path))


def _fractions(grid, places, radius_km=2.0) -> pd.DataFrame:
    fractions = flooded_fraction_near(
        grid, places["lon"], places["lat"], radius_km=radius_km
    )
    return fractions.set_index(places["osm_id"])


def test_all_places_2016_pinned(grid_2016, places):
    fractions = _fractions(grid_2016, places)

    assert len(fractions) == 1794
    assert fractions["valid_fraction"].min() == 1.0
    assert int((fractions["flooded_fraction"] > 0).sum()) == 97
    assert int((fractions["flooded_fraction"] >= 0.05).sum()) == 28
    assert fractions.loc["node/9569576344", "flooded_fraction"] == pytest.approx(
        0.2781, abs=1e-4
    )


def test_all_places_2023_pinned(grid_2023, places):
    fractions = _fractions(grid_2023, places)

    assert int((fractions["flooded_fraction"] > 0).sum()) == 132
    assert fractions.loc["node/12144941896", "flooded_fraction"] == pytest.approx(
        0.2514, abs=1e-4
    )
    assert fractions["cells"].between(2359, 2441).all()


def test_matches_a_cell_by_cell_count(grid_2023, places):
    fractions = _fractions(grid_2023, places)
    wettest = fractions["flooded_fraction"].nlargest(3).index

    for osm_id in wettest:
        place = places.set_index("osm_id").loc[osm_id]
        row = int((place["lat"] - grid_2023.lat0) / grid_2023.dlat)
        col = int((place["lon"] - grid_2023.lon0) / grid_2023.dlon)
        rows, cols = np.mgrid[row - 40 : row + 41, col - 40 : col + 41]
        lat = grid_2023.lat0 + (rows + 0.5) * grid_2023.dlat
        lon = grid_2023.lon0 + (cols + 0.5) * grid_2023.dlon
        inside = haversine_km(place["lat"], place["lon"], lat, lon) <= 2.0
        expected = grid_2023.values[rows[inside], cols[inside]].mean() / 100

        assert fractions.loc[osm_id, "flooded_fraction"] == pytest.approx(
            expected, abs=0.003
        )


def _grid(values) -> FloodGrid:
    return FloodGrid(
        values=np.asarray(values, dtype="uint8"),
        lon0=91.0,
        lat0=26.0,
        dlon=0.001,
        dlat=-0.001,
        nodata=255,
        scale=0.01,
    )


def test_nodata_cells_are_not_dry():
    values = np.full((100, 100), 255)
    values[:, 50:] = 100
    grid = _grid(values)

    fractions = flooded_fraction_near(grid, [91.05], [25.95], radius_km=1.0)

    assert fractions.loc[0, "flooded_fraction"] == 1.0
    assert fractions.loc[0, "valid_fraction"] == pytest.approx(0.5, abs=0.03)


def test_mostly_nodata_is_unknown():
    values = np.full((100, 100), 255)
    values[:, 80:] = 0
    grid = _grid(values)

    fractions = flooded_fraction_near(grid, [91.05], [25.95], radius_km=1.0)

    assert np.isnan(fractions.loc[0, "flooded_fraction"])
    assert fractions.loc[0, "valid_fraction"] < 0.5


def test_out_of_range_values_are_not_counted():
    values = np.zeros((100, 100))
    values[:50, :] = 200
    grid = _grid(values)

    fractions = flooded_fraction_near(grid, [91.05], [25.95], radius_km=1.0)

    assert fractions.loc[0, "flooded_fraction"] == 0.0
    assert fractions.loc[0, "valid_fraction"] == pytest.approx(0.5, abs=0.03)


def test_point_off_the_raster_is_unknown():
    grid = _grid(np.zeros((100, 100)))

    fractions = flooded_fraction_near(
        grid, [80.0, np.nan], [20.0, 25.95], radius_km=1.0
    )

    assert fractions["flooded_fraction"].isna().all()
    assert (fractions["valid_fraction"] == 0).all()


def test_no_points_gives_empty_frame():
    grid = _grid(np.zeros((10, 10)))

    fractions = flooded_fraction_near(grid, [], [], radius_km=1.0)

    assert list(fractions.columns) == ["flooded_fraction", "valid_fraction", "cells"]
    assert fractions.empty
