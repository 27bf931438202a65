"""Trust scores: fast decay, slow recovery, and a gauge that turns bad in a replay."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from argus import cycle
from argus.settings import Settings
from argus.sources.gauges import open_gauge_source
from argus.storage.cycles import open_cycle
from argus.storage.db import create_db_engine, migrate, session_scope
from argus.storage.villages import upsert_villages
from argus.trust import MIN_TRUST, load_trust, next_scores, update_gauge_trust

# Daporizo (020-UBDDIB) first published 124.83..124.56 m for 2026-08-03
# 02:00..10:00 IST against ~205 m, then corrected them; Naharkatia (012-ubddib)
# stayed ordinary over those hours.
CYCLES = (
    "2026-08-03T00:10+05:30",
    "2026-08-03T08:05+05:30",
    "2026-08-03T10:05+05:30",
    "2026-08-03T12:05+05:30",
)
NEAR_DAPORIZO = pd.DataFrame(
    {
        "village_id": ["test/daporizo"],
        "name": ["Daporizo"],
        "lat": [27.98],
        "lon": [94.22],
        "district": [None],
        "revenue_circle": [None],
        "place_kind": ["town"],
    }
)


def test_scores_fall_fast_and_rise_slowly():
    scores = np.array([0.8, 0.2])

    moved = next_scores(scores, np.array([0.0, 1.0]))

    np.testing.assert_allclose(moved, [0.4, 0.28])


def test_scores_stay_in_unit_interval():
    moved = next_scores(np.array([1.0, 0.0]), np.array([1.5, -1.0]))

    assert ((moved >= 0) & (moved <= 1)).all()


@pytest.fixture(scope="module")
def replay_scores(shared_data, tmp_path_factory) -> list[pd.DataFrame]:
    """Scores after each replay cycle, on SQLite only.

    The replay is the slowest fixture of these tests, so it runs once per
    module; storing scores on PostgreSQL is covered by the command-line tests.
    """
    folder = tmp_path_factory.mktemp("trust")
    engine = create_db_engine(f"sqlite:///{folder / 'argus.db'}")
    migrate(engine)
    settings = Settings(home=folder / "home")
    source = open_gauge_source(
        settings, replay_dir=str(shared_data / "cwc_ffs" / "snapshots")
    )
    with session_scope(engine) as session:
        upsert_villages(session, NEAR_DAPORIZO, source="test")
    cycle.refresh_stations(engine, source)
    scores = []
    for text in CYCLES:
        at = datetime.fromisoformat(text)
        with session_scope(engine) as session:
            cycle_id = open_cycle(session, cycle_at=at, mode="replay")
        cycle.ingest_gauges(
            engine, source, cycle_id=cycle_id, cycle_at=at, settings=settings
        )
        update_gauge_trust(engine, cycle_id=cycle_id, cycle_at=at, max_age_h=6.0)
        with session_scope(engine) as session:
            scores.append(load_trust(session).set_index("source_id"))
    engine.dispose()
    return scores


def test_gauge_turning_bad_loses_trust(replay_scores):
    daporizo = [s.loc["gauge:020-UBDDIB", "score"] for s in replay_scores]

    assert daporizo[0] == pytest.approx(0.82)
    assert daporizo[1] < daporizo[0] - 0.2
    assert daporizo[2] < MIN_TRUST
    assert (
        "contract pass rate 0/3 this cycle"
        in (replay_scores[2].loc["gauge:020-UBDDIB", "reasons"])
    )


def test_bad_gauge_recovers_slowly(replay_scores):
    daporizo = [s.loc["gauge:020-UBDDIB", "score"] for s in replay_scores]

    assert daporizo[3] > daporizo[2]
    assert daporizo[3] - daporizo[2] < 0.1


def test_good_gauge_keeps_trust(replay_scores):
    naharkatia = [s.loc["gauge:012-UBDDIB", "score"] for s in replay_scores]

    assert naharkatia == sorted(naharkatia)
    assert naharkatia[-1] > 0.85


def test_trust_lists_lowest_first(replay_scores):
    scores = replay_scores[2]["score"].to_numpy()

    assert (np.diff(scores) >= 0).all()
