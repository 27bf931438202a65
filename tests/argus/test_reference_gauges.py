"""Reference gauge rule: danger level required, 25 km, same revenue circle first."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from argus.reference_gauges import assign_reference_gauges, haversine_km
from argus.stations import read_stations_file
from argus.villages import read_osm_places

# One degree of latitude on the mean sphere [km].
KM_PER_DEG = 111.19508


def _stations(*rows: tuple[str, float, float, str | None, float]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["station_code", "lat", "lon", "revenue_circle", "danger_level_m"]
    )


def _villages(*rows: tuple[str, float, float, str | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["village_id", "lat", "lon", "revenue_circle"])


def test_assign_on_the_osm_places_pins_the_counts(shared_data: Path) -> None:
    villages = read_osm_places(shared_data / "geo" / "assam_osm_places.json")
    stations = read_stations_file(shared_data / "cwc_ffs" / "stations_assam.json")

    assigned = assign_reference_gauges(villages, stations)

    assert assigned["rule"].value_counts().to_dict() == {
        "nearest": 599,
        "none_within_25_km": 566,
        "same_revenue_circle": 369,
    }
    assert assigned["station_code"].notna().sum() == 968
    assert assigned["station_code"].nunique() == 63
    assert assigned["distance_km"].max() == pytest.approx(24.960, abs=1e-3)
    dibrugarh = assigned.set_index("village_id").loc["node/299448214"]
    assert dibrugarh["station_code"] == "010-UBDDIB"
    assert dibrugarh["distance_km"] == pytest.approx(0.896, abs=1e-3)


def test_assign_on_chunks_equals_one_block(shared_data: Path) -> None:
    villages = read_osm_places(shared_data / "geo" / "assam_osm_places.json")
    stations = read_stations_file(shared_data / "cwc_ffs" / "stations_assam.json")

    whole = assign_reference_gauges(villages, stations, chunk_villages=10_000)
    chunked = assign_reference_gauges(villages, stations, chunk_villages=97)

    pd.testing.assert_frame_equal(whole, chunked)


def test_assign_stops_at_25_km() -> None:
    stations = _stations(("S1", 26.0, 92.0, None, 50.0))
    villages = _villages(("in", 26.2, 92.0, None), ("out", 26.23, 92.0, None))

    assigned = assign_reference_gauges(villages, stations)

    assert assigned["station_code"].tolist() == ["S1", None]
    assert assigned["rule"].tolist() == ["nearest", "none_within_25_km"]
    assert assigned["distance_km"].iloc[0] == pytest.approx(0.2 * KM_PER_DEG, rel=1e-6)
    assert np.isnan(assigned["distance_km"].iloc[1])


def test_assign_skips_stations_without_a_danger_level() -> None:
    stations = _stations(
        ("NEAR", 26.0, 92.0, None, np.nan), ("FAR", 26.1, 92.0, None, 50.0)
    )
    villages = _villages(("v", 26.0, 92.0, None))

    assigned = assign_reference_gauges(villages, stations)

    assert assigned.loc[0, ["station_code", "rule"]].tolist() == ["FAR", "nearest"]


def test_assign_prefers_the_same_revenue_circle_ignoring_case() -> None:
    stations = _stations(
        ("OTHER", 26.0, 92.0, "Mayong", 50.0),
        ("OWN", 26.15, 92.0, " guwahati ", 50.0),
        ("OWN_FAR", 26.3, 92.0, "Guwahati", 50.0),
    )
    villages = _villages(("v", 26.0, 92.0, "GUWAHATI"), ("w", 26.0, 92.0, None))

    assigned = assign_reference_gauges(villages, stations)

    assert assigned["station_code"].tolist() == ["OWN", "OTHER"]
    assert assigned["rule"].tolist() == ["same_revenue_circle", "nearest"]


def test_assign_own_circle_too_far() -> None:
    stations = _stations(
        ("OTHER", 26.0, 92.0, "Mayong", 50.0), ("OWN", 26.3, 92.0, "Boko", 50.0)
    )
    villages = _villages(("v", 26.0, 92.0, "Boko"))

    assigned = assign_reference_gauges(villages, stations, max_distance_km=10)

    assert assigned.loc[0, ["station_code", "rule"]].tolist() == ["OTHER", "nearest"]


def test_assign_without_candidates_leaves_every_village_unassigned() -> None:
    stations = _stations(("S1", 26.0, 92.0, None, np.nan))
    villages = _villages(("v", 26.0, 92.0, None))

    assigned = assign_reference_gauges(villages, stations, max_distance_km=5)

    assert assigned.loc[0, ["station_code", "rule"]].tolist() == [
        None,
        "none_within_5_km",
    ]


def test_assign_rejects_a_non_positive_distance() -> None:
    with pytest.raises(ValueError, match="max_distance_km=0 .* must be positive"):
        assign_reference_gauges(_villages(), _stations(), max_distance_km=0)


def test_haversine_matches_the_sphere() -> None:
    zero = np.array(0.0)

    quarter_meridian = haversine_km(zero, zero, np.array(90.0), zero)
    one_degree_east = haversine_km(zero, zero, zero, np.array(1.0))

    assert quarter_meridian == pytest.approx(6371.0088 * np.pi / 2)
    assert one_degree_east == pytest.approx(KM_PER_DEG, rel=1e-6)
