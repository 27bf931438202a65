"""Static exposure of villages: circles, embankment distance, bad files."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from argus.errors import InputError
from argus.exposure import (
    CIRCLES_FILE,
    ELEVATION_FILE,
    EMBANKMENTS_FILE,
    load_exposure_data,
    village_exposure,
)

# Dibrugarh town (OpenStreetMap centre), on the Brahmaputra's south bank.
DIBRUGARH = {"village_id": "node/dibrugarh", "lat": 27.4728, "lon": 94.9120}
# A point in the Bay of Bengal, outside every Assam revenue circle.
SEA = {"village_id": "sea", "lat": 20.0, "lon": 89.0}


@pytest.fixture(scope="module")
def data(shared_data):
    return load_exposure_data(shared_data)


def test_circles_and_attributes(data):
    assert len(data.circle_ids) == 180
    circles = data.circles
    assert circles["object_id"].is_unique
    assert circles["elevation_m"].notna().all()
    assert circles["river_distance_km"].between(0.3, 20).all()
    assert circles["no_sanitation_share"].dropna().between(0, 1).all()
    assert circles["embankment_km"].between(0, 100).all()


def test_village_gets_its_circle(data):
    frame = village_exposure(pd.DataFrame([DIBRUGARH]), data)
    row = frame.iloc[0]
    circle = data.circles.set_index("object_id").loc[row["object_id"]]
    assert circle["district"] == "DIBRUGARH"
    assert row["elevation_m"] == circle["elevation_m"]
    assert row["no_sanitation_share"] == circle["no_sanitation_share"]


def test_embankment_distance_is_the_village_own(data):
    frame = village_exposure(pd.DataFrame([DIBRUGARH]), data)
    # Measured 1.66 km from the town centre to the nearest embankment point.
    assert frame.loc[0, "embankment_km"] == pytest.approx(1.66, abs=0.05)


def test_village_outside_circles_is_missing(data):
    frame = village_exposure(pd.DataFrame([DIBRUGARH, SEA]), data)
    sea = frame.iloc[1]
    assert sea["object_id"] is None
    assert np.isnan(sea["elevation_m"])
    assert np.isnan(sea["no_sanitation_share"])
    assert sea["embankment_km"] > 300


def test_osm_places_almost_all_located(data, shared_data):
    places = json.loads((shared_data / "geo" / "assam_osm_places.json").read_text())
    frame = pd.DataFrame(
        {
            "village_id": [p["osm_id"] for p in places["places"]],
            "lon": [p["centre"][0] for p in places["places"]],
            "lat": [p["centre"][1] for p in places["places"]],
        }
    )
    exposure = village_exposure(frame, data)
    assert exposure["object_id"].isna().sum() == 2
    assert exposure["village_id"].tolist() == frame["village_id"].tolist()


def _copy_data(shared_data, tmp_path):
    for relative in (CIRCLES_FILE, EMBANKMENTS_FILE):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / relative, tmp_path / relative)
    monthly = tmp_path / ELEVATION_FILE.parent
    shutil.copytree(shared_data / ELEVATION_FILE.parent, monthly, dirs_exist_ok=True)
    return tmp_path


def test_missing_file_named(shared_data, tmp_path):
    folder = _copy_data(shared_data, tmp_path)
    (folder / EMBANKMENTS_FILE).unlink()
    with pytest.raises(InputError, match="assam_embankments.geojson.*not found"):
        load_exposure_data(folder)


def test_missing_column_named(shared_data, tmp_path):
    folder = _copy_data(shared_data, tmp_path)
    path = folder / ELEVATION_FILE
    path.chmod(0o644)
    pd.read_csv(path).drop(columns="elevation_mean").to_csv(path, index=False)
    with pytest.raises(InputError, match="nasadem_elevation_rc.csv.*elevation_mean"):
        load_exposure_data(folder)


def test_not_geojson_named(shared_data, tmp_path):
    folder = _copy_data(shared_data, tmp_path)
    path = folder / CIRCLES_FILE
    path.chmod(0o644)
    path.write_text('{"type": "Feature"}')
    with pytest.raises(
        InputError, match="assam_revenue_circles.geojson.*FeatureCollection"
    ):
        load_exposure_data(folder)


def test_feature_without_object_id_named(shared_data, tmp_path):
    folder = _copy_data(shared_data, tmp_path)
    path = folder / CIRCLES_FILE
    path.chmod(0o644)
    collection = json.loads(path.read_text())
    del collection["features"][7]["properties"]["object_id"]
    path.write_text(json.dumps(collection))
    with pytest.raises(InputError, match="feature 7 lacks properties.object_id"):
        load_exposure_data(folder)
