"""Upstream gauges found from rivers, levels and lagged correlation."""

import pandas as pd
import pytest

from argus.stations import normalise_station_code, read_stations_file
from models.upstream import hourly_table, upstream_graph


def _hourly_levels(shared_data) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / "cwc_ffs" / "hourly_levels.csv")
    return pd.DataFrame(
        {
            "station_code": frame["cwc_station_code"].map(normalise_station_code),
            "observed_at": pd.to_datetime(frame["observed_at"], utc=True),
            "level_m": frame["level_m"],
        }
    )


@pytest.fixture(scope="module")
def recorded_graph(shared_data):
    levels = _hourly_levels(shared_data)
    stations = read_stations_file(shared_data / "cwc_ffs" / "stations_assam.json")
    return levels, upstream_graph(levels, stations)


def test_upstream_gauges_lie_higher(recorded_graph):
    levels, graph = recorded_graph
    median = hourly_table(levels).median()

    linked = {code: edges for code, edges in graph.items() if edges}
    assert len(linked) > 20
    for code, edges in linked.items():
        assert len(edges) <= 2
        for edge in edges:
            assert median[edge["station_code"]] > median[code]
            assert 1 <= edge["lag_h"] <= 24
            assert edge["correlation"] >= 0.3


def test_beki_road_bridge_fed_by_mathanguri(recorded_graph):
    # Mathanguri (001-LBDJPG) lies upstream of Beki Road bridge on the Beki.
    _, graph = recorded_graph

    assert "001-LBDJPG" in [e["station_code"] for e in graph["002-LBDJPG"]]


def test_no_upstream_without_candidates():
    times = pd.date_range("2026-08-01", periods=72, freq="h", tz="UTC")
    levels = pd.DataFrame(
        {
            "station_code": ["X"] * 72 + ["Y"] * 72,
            "observed_at": list(times) * 2,
            "level_m": [10.0 + 0.01 * i for i in range(72)]
            + [20.0 + 0.01 * i for i in range(72)],
        }
    )
    stations = pd.DataFrame(
        {
            "station_code": ["X", "Y"],
            "river": ["A", "B"],
            "lat": [26.0, 28.0],
            "lon": [90.0, 95.0],
        }
    )

    assert upstream_graph(levels, stations) == {"X": [], "Y": []}
