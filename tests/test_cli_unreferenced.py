"""`argus run --replay` on recorded polls with a gauge the station reference lacks."""

import json
from datetime import datetime

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from argus.cli import app
from argus.storage.db import create_db_engine, session_scope
from argus.storage.forecasts import load_forecasts
from argus.storage.tables import Station
from argus.unreferenced_stations import NO_REFERENCE_STATUS
from tests.argus.backtest import unreferenced_cut as cut

# After the first three polls of the cut (2026-07-27 15:00, 22:00, 07-28 01:00).
AT = "2026-07-28T01:00+05:30"


def _run(folder, stations) -> tuple[dict, str]:
    """Run one cycle; returns its JSON summary and what it logged to stderr."""
    result = CliRunner().invoke(
        app,
        ["run", "--replay", str(folder), "--stations", str(stations), "--at", AT,
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_replay_registers_unreferenced_gauge(argus_env, shared_data, tmp_path):
    snapshots = shared_data / "cwc_ffs" / "snapshots"
    folder = tmp_path / "polls"
    cut.write_cut(snapshots, folder, rename=True)
    stations = snapshots.parent / "stations_assam.json"

    first, first_log = _run(folder, stations)
    again, again_log = _run(folder, stations)

    registered = first["stations_registered_without_reference"]
    assert list(registered) == [cut.RENAMED]
    assert registered[cut.RENAMED].startswith("ffs_2026-07-27T1500.json.gz")
    assert again["stations_registered_without_reference"] == {}
    warnings = [line for line in first_log.splitlines() if cut.RENAMED in line]
    assert len(warnings) == 1
    assert "WARNING argus.unreferenced_stations" in warnings[0]
    assert "ffs_2026-07-27T1500.json.gz" in warnings[0]
    assert cut.RENAMED not in again_log

    engine = create_db_engine(argus_env)
    with session_scope(engine) as session:
        forecasts = load_forecasts(session, datetime.fromisoformat(AT))
        station = session.get(Station, cut.RENAMED.upper())
        unreferenced = session.exec(
            select(Station.station_code).where(
                Station.threshold_status == NO_REFERENCE_STATUS
            )
        ).all()
        assert station is not None
        assert station.river is None
        assert station.lat is None
        assert station.danger_level_m is None
    engine.dispose()

    assert unreferenced == [cut.RENAMED.upper()]
    codes = set(forecasts["station_code"])
    assert cut.RENAMED.upper() in codes
    assert cut.RENAMED_FROM not in codes
    assert cut.NULL_CODE not in codes
    assert cut.OTHER_QUANTITY_CODE not in codes
    gauge = forecasts[forecasts["station_code"] == cut.RENAMED.upper()]
    assert sorted(gauge["lead_time_h"]) == list(range(1, 25))
