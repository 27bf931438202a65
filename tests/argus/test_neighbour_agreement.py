"""Gauges compared with their neighbours on the same river."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from argus.neighbour_agreement import level_changes, neighbour_agreement

UNTIL = datetime(2026, 8, 1, 6, tzinfo=UTC)
# Three made-up gauges on one river about 30 km apart, one on another river.
STATIONS = pd.DataFrame(
    {
        "station_code": ["A", "B", "C", "D"],
        "river": ["Brahmaputra", "brahmaputra ", "Brahmaputra", "Beki"],
        "lat": [26.2, 26.2, 26.2, 26.4],
        "lon": [91.0, 91.3, 91.6, 91.0],
    }
)


def _history(changes: dict[str, float]) -> pd.DataFrame:
    rows = []
    for code, change in changes.items():
        rows.append((code, UNTIL - timedelta(hours=5), 50.0))
        rows.append((code, UNTIL, 50.0 + change))
    return pd.DataFrame(rows, columns=["station_code", "observed_at", "level_m"])


def test_level_change_over_the_span():
    history = _history({"A": 0.4})
    history.loc[len(history)] = ("A", UNTIL - timedelta(hours=8), 10.0)
    history.loc[len(history)] = ("E", UNTIL, 20.0)

    changes = level_changes(history, until=UNTIL).set_index("station_code")

    assert changes.loc["A", "change_m"] == pytest.approx(0.4)
    assert "E" not in changes.index


def test_gauge_against_its_river_neighbours():
    changes = level_changes(
        _history({"A": 0.3, "B": 0.4, "C": -2.5, "D": 3.0}), until=UNTIL
    )

    agreement = neighbour_agreement(changes, STATIONS).set_index("station_code")

    assert agreement.loc["C", "neighbours"] == 2
    assert agreement.loc["C", "neighbour_change_m"] == pytest.approx(0.35)
    assert agreement.loc["A", "neighbour_change_m"] == pytest.approx(-1.05)
    assert agreement.loc["D", "neighbours"] == 0
    assert pd.isna(agreement.loc["D", "neighbour_change_m"])


def test_far_gauge_is_no_neighbour():
    changes = level_changes(_history({"A": 0.3, "C": 0.2}), until=UNTIL)

    agreement = neighbour_agreement(changes, STATIONS, distance_km=40.0)

    assert agreement["neighbours"].tolist() == [0, 0]
