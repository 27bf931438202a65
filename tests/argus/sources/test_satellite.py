"""Satellite products: declarations, the real Bhuvan rasters, and bad files."""

import json
from datetime import datetime

import numpy as np
import pytest
import rioxarray
import xarray as xr

from argus.errors import InputError
from argus.sources.satellite import IST, declare_product, read_flood_grid

LAYER_2023 = "bhuvan_inundation_as_2023_07_07_18.tif"


@pytest.fixture
def layer(shared_data):
    return shared_data / "satellite" / LAYER_2023


def _sidecar(path, **values):
    declared = {
        "variable": "flooded_percent",
        "unit": "percent",
        "acquired_at": "2026-08-01T06:00+05:30",
    }
    declared.update(values)
    path.with_suffix(".json").write_text(json.dumps(declared))


def _small_raster(crs="EPSG:4326", nodata=255, bands=1) -> xr.DataArray:
    values = np.zeros((bands, 40, 50), dtype="uint8")
    values[:, 10:20, 10:30] = 100
    raster = xr.DataArray(
        values,
        dims=("band", "y", "x"),
        coords={
            "band": np.arange(1, bands + 1),
            "y": 26.0 - 0.001 * np.arange(40),
            "x": 91.0 + 0.001 * np.arange(50),
        },
    )
    if crs:
        raster = raster.rio.write_crs(crs)
    if nodata is not None:
        raster = raster.rio.write_nodata(nodata)
    return raster


def test_bhuvan_name_declares_percent_and_time(layer):
    product = declare_product(layer)

    assert product.variable == "flooded_percent"
    assert product.scale == 0.01
    assert product.acquired_at == datetime(2023, 7, 7, 18, tzinfo=IST)


def test_sidecar_overrides_the_name(layer, tmp_path):
    path = tmp_path / "scene.tif"
    path.symlink_to(layer)
    _sidecar(path, acquired_at="2026-08-01T06:00+05:30")

    product = declare_product(path)

    assert product.acquired_at.isoformat() == "2026-08-01T06:00:00+05:30"


def test_undeclared_product_is_rejected(layer, tmp_path):
    path = tmp_path / "scene.tif"
    path.symlink_to(layer)

    with pytest.raises(InputError, match="scene.tif.*no sidecar scene.json"):
        declare_product(path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"unit": "mm"}, "variable 'flooded_percent' in unit 'mm' is not supported"),
        ({"acquired_at": "2026-08-01T06:00"}, "has no time zone"),
        ({"acquired_at": "yesterday"}, "'yesterday' is not ISO 8601"),
    ],
)
def test_invalid_sidecar_names_the_value(tmp_path, values, message):
    path = tmp_path / "scene.tif"
    path.write_bytes(b"")
    _sidecar(path, **values)

    with pytest.raises(InputError, match=message):
        declare_product(path)


def test_real_layer_reads_as_percent_grid(layer):
    grid = read_flood_grid(declare_product(layer))

    assert grid.values.shape == (6080, 9216)
    assert grid.nodata == 255
    assert grid.reprojected_from is None
    assert grid.lon0 == pytest.approx(89.692297)
    assert grid.dlat == pytest.approx(-0.000687250508)
    assert int((grid.values == 100).sum()) == 55006


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.tif"
    path.write_bytes(b"")
    _sidecar(path)

    with pytest.raises(InputError, match="empty.tif' is an empty file"):
        read_flood_grid(declare_product(path))


def test_corrupt_file_is_rejected(tmp_path, layer):
    path = tmp_path / "corrupt.tif"
    path.write_bytes(layer.read_bytes()[:2000])
    _sidecar(path)

    with pytest.raises(InputError, match="corrupt.tif' is not a readable GeoTIFF"):
        read_flood_grid(declare_product(path)).values.sum()


def test_other_projection_is_reprojected(tmp_path):
    path = tmp_path / "utm.tif"
    _small_raster().rio.reproject("EPSG:32646").rio.to_raster(path)
    _sidecar(path)

    grid = read_flood_grid(declare_product(path))

    assert grid.reprojected_from == "EPSG:32646"
    assert np.isin(np.unique(grid.values), [0, 100, 255]).all()
    assert (grid.values == 100).sum() > 100


def test_other_projection_without_nodata_is_rejected(tmp_path):
    path = tmp_path / "utm.tif"
    raster = _small_raster(nodata=None).rio.reproject("EPSG:32646", nodata=None)
    raster.attrs.pop("_FillValue", None)
    raster.rio.to_raster(path)
    _sidecar(path)

    with pytest.raises(InputError, match="utm.tif' is in EPSG:32646 and declares no"):
        read_flood_grid(declare_product(path))


def test_raster_without_crs_is_rejected(tmp_path):
    path = tmp_path / "nocrs.tif"
    _small_raster(crs=None).rio.to_raster(path)
    _sidecar(path)

    with pytest.raises(InputError, match="has no coordinate reference system"):
        read_flood_grid(declare_product(path))


def test_two_bands_are_rejected(tmp_path):
    path = tmp_path / "two.tif"
    _small_raster(bands=2).rio.to_raster(path)
    _sidecar(path)

    with pytest.raises(InputError, match="has 2 bands; expected a single band"):
        read_flood_grid(declare_product(path))


def test_rioxarray_reads_what_the_tests_write(tmp_path):
    path = tmp_path / "small.tif"
    _small_raster().rio.to_raster(path)

    raster = rioxarray.open_rasterio(path)

    assert raster.rio.crs.to_epsg() == 4326
    assert raster.rio.nodata == 255
