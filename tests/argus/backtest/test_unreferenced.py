"""``argus backtest`` on recorded polls with a gauge the station reference lacks."""

import json

import pandas as pd
import pytest

from argus.backtest.run import BacktestRequest, run_backtest
from argus.settings import Settings
from models.baseline import PersistenceTrendForecaster
from tests.argus.backtest import unreferenced_cut as cut


def _backtest(snapshots, folder, out, url, *, rename):
    added = cut.write_cut(snapshots, folder, rename=rename)
    request = BacktestRequest(
        replay_dir=folder,
        out_dir=out,
        stations_file=snapshots.parent / "stations_assam.json",
        database_url=url,
    )
    run_backtest(
        request,
        forecaster=PersistenceTrendForecaster(),
        settings=Settings(home=out / "home"),
    )
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics, pd.read_csv(out / "forecasts.csv"), added


@pytest.fixture(scope="module")
def runs(shared_data, scratch_url, tmp_path_factory):
    """The cut as recorded, then with the renamed gauge and the garbage codes."""
    snapshots = shared_data / "cwc_ffs" / "snapshots"
    recorded = _backtest(
        snapshots,
        tmp_path_factory.mktemp("recorded"),
        tmp_path_factory.mktemp("recorded_out"),
        scratch_url,
        rename=False,
    )
    if scratch_url.startswith("postgresql"):
        from tests.conftest import _reset_postgres

        _reset_postgres(scratch_url)
    renamed = _backtest(
        snapshots,
        tmp_path_factory.mktemp("renamed"),
        tmp_path_factory.mktemp("renamed_out"),
        scratch_url.replace("scratch.db", "renamed.db"),
        rename=True,
    )
    return recorded, renamed


def test_unreferenced_gauge_counted(runs):
    (recorded, _, _), (renamed, _, _) = runs
    assert recorded["stations_without_reference"] == 0
    assert recorded["stations_without_reference_read_in"] == {}
    assert renamed["stations_without_reference"] == 1
    read_in = renamed["stations_without_reference_read_in"]
    assert list(read_in) == [cut.RENAMED]
    assert read_in[cut.RENAMED].startswith("ffs_2026-07-27T1500.json.gz")


def test_unreferenced_gauge_forecast_every_hour(runs):
    _, (_, forecasts, _) = runs
    gauge = forecasts[forecasts["station_code"] == cut.RENAMED]
    assert len(gauge) > 0
    assert set(gauge["issued_at"]) == set(forecasts["issued_at"])
    assert set(gauge["lead_h"]) == set(range(1, 25))


def test_unreferenced_gauge_forecast_as_referenced(runs):
    # The persistence-and-trend baseline reads only a gauge's own levels, so
    # losing the station's metadata must not change its forecasts.
    (_, recorded, _), (_, renamed, _) = runs
    columns = ["issued_at", "lead_h", "level_m", "p10_m", "p90_m"]
    before = recorded[recorded["station_code"] == cut.RENAMED_FROM][columns]
    after = renamed[renamed["station_code"] == cut.RENAMED][columns]
    pd.testing.assert_frame_equal(
        before.reset_index(drop=True), after.reset_index(drop=True)
    )


def test_unreferenced_gauge_scored(runs):
    (recorded, _, _), (renamed, _, _) = runs
    # Scored on the same pairs as under its referenced code, so every skill
    # figure is the same.
    assert renamed["buckets"] == recorded["buckets"]
    assert renamed["scored_rows"] == recorded["scored_rows"]
    assert renamed["instants"] == recorded["instants"]


def test_garbage_codes_get_no_forecast(runs):
    _, (_, forecasts, _) = runs
    codes = set(forecasts["station_code"].astype(str))
    assert cut.NULL_CODE not in codes
    assert cut.OTHER_QUANTITY_CODE not in codes
    assert not forecasts["station_code"].isna().any()


def test_garbage_codes_quarantined(runs):
    (recorded, _, _), (renamed, _, added) = runs
    before = recorded["files"]["quarantined_by_rule"]
    after = renamed["files"]["quarantined_by_rule"]
    unknown = "expect_station_code_known"
    datatype = "expect_river_level_datatype"
    assert after.get(unknown, 0) - before.get(unknown, 0) == (
        added[cut.EMPTY_CODE] + added[cut.NULL_CODE]
    )
    assert after[datatype] - before[datatype] == added[cut.OTHER_QUANTITY_CODE]
    assert cut.OTHER_QUANTITY_CODE not in renamed["stations_without_reference_read_in"]
