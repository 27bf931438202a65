"""A nowcast cycle combines the CWC rules with the committed risk model."""

import json

import pytest
from sqlmodel import select

from argus.commands import import_villages
from argus.risk import compute_exposure
from argus.settings import load_settings
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import VillageState
from flows.nowcast import nowcast

AT = "2026-07-29T12:00+05:30"


@pytest.mark.usefixtures("prefect_harness")
def test_cycle_reasons_carry_risk(argus_env, village_cut, shared_data):
    import_villages(village_cut[0])
    engine = engine_for(load_settings().resolved_database_url)
    compute_exposure(engine, shared_data)

    summary = nowcast(at=AT, replay_dir=str(shared_data / "cwc_ffs" / "snapshots"))

    assert summary["villages_by_level"]["WARNING"] > 0
    with session_scope(engine) as session:
        states = session.exec(select(VillageState)).all()
    at_risk = [s for s in states if s.level != "NORMAL"]
    assert at_risk
    for state in at_risk:
        reasons = json.loads(state.reasons)
        assert any("top contributions in log-odds" in r for r in reasons), reasons
