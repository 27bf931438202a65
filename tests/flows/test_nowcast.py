"""The nowcast flow under a temporary Prefect API, on recorded snapshots."""

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from sqlmodel import select

from argus.commands import import_villages
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import Alert, VillageState
from flows.nowcast import cycle_time, nowcast

FIRST = "2026-07-31T08:00+05:30"
LATER = "2026-08-02T08:00+05:30"


@pytest.fixture
def villages(argus_env, village_cut):
    stored, _ = import_villages(village_cut[0])
    return stored


def _alert_runs() -> int:
    # Counted by the API: read_flow_runs returns at most 200 runs per call.
    with get_client(sync_client=True) as client:
        return client.count_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["alert-village"]))
        )


@pytest.mark.usefixtures("prefect_harness")
def test_one_alert_subflow_per_changed_village(villages, shared_data):
    snapshots = str(shared_data / "cwc_ffs" / "snapshots")
    runs_before = _alert_runs()

    first = nowcast(at=FIRST, replay_dir=snapshots)
    later = nowcast(at=LATER, replay_dir=snapshots)
    runs_after = _alert_runs()

    with session_scope(engine_for(_url())) as session:
        alerts = session.exec(select(Alert)).all()
        states = session.exec(select(VillageState)).all()
    assert first["alerts_queued"] > 0
    assert first["storm_mode"]["active"] == (first["villages_at_emergency"] >= 3)
    assert first["storm_mode"]["changed"] == first["storm_mode"]["active"]
    assert first["alerts_queued"] + later["alerts_queued"] == len(alerts)
    assert runs_after - runs_before == len(alerts)
    assert all(alert.flow_run_id for alert in alerts)
    assert all(
        alert.previous_level is None for alert in alerts[: first["alerts_queued"]]
    )
    assert {state.level for state in states} <= {
        "NORMAL",
        "WATCH",
        "WARNING",
        "EMERGENCY",
    }
    assert len(states) <= villages


def _url() -> str:
    from argus.settings import load_settings

    return load_settings().resolved_database_url


def test_cycle_time_needs_zone():
    with pytest.raises(ValueError, match="time zone missing"):
        cycle_time("2026-08-01T12:00")


def test_cycle_time_converts_to_utc():
    assert (
        cycle_time("2026-08-01T12:00+05:30").isoformat() == "2026-08-01T06:30:00+00:00"
    )
