"""Village exposure in the database, on SQLite and PostgreSQL."""

import numpy as np
import pandas as pd

from argus.exposure import EXPOSURE_COLUMNS
from argus.storage.db import session_scope
from argus.storage.exposure import load_exposure, store_exposure


def _frame(embankment_km: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_id": ["node/1", "node/2"],
            "object_id": ["18-310-00159", None],
            "elevation_m": [104.5, np.nan],
            "river_distance_km": [1.2, np.nan],
            "no_sanitation_share": [0.2, np.nan],
            "piped_water_share": [0.01, np.nan],
            "electricity_class": [2.8, np.nan],
            "embankment_km": [embankment_km, 400.0],
        }
    )


def test_exposure_round_trip(engine):
    with session_scope(engine) as session:
        assert store_exposure(session, _frame(0.7)) == 2
    with session_scope(engine) as session:
        loaded = load_exposure(session).sort_values("village_id")
    assert list(loaded.columns) == list(EXPOSURE_COLUMNS)
    assert loaded["object_id"].tolist() == ["18-310-00159", None]
    assert loaded["elevation_m"].iloc[0] == 104.5
    assert np.isnan(loaded["elevation_m"].iloc[1])


def test_exposure_recomputed_replaces_rows(engine):
    with session_scope(engine) as session:
        store_exposure(session, _frame(0.7))
    with session_scope(engine) as session:
        store_exposure(session, _frame(2.5))
    with session_scope(engine) as session:
        loaded = load_exposure(session).set_index("village_id")
    assert len(loaded) == 2
    assert loaded.loc["node/1", "embankment_km"] == 2.5
