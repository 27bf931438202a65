"""The nowcast's forecast step serves the forecaster that the settings choose."""

from argus.assess import forecast_gauges
from argus.cycle import ingest_gauges, refresh_stations
from argus.settings import Settings
from argus.sources.gauges import ReplayGaugeSource
from argus.storage.cycles import open_cycle
from argus.storage.db import session_scope
from argus.storage.forecasts import load_forecasts
from models.baseline import PersistenceTrendForecaster
from models.level_forecaster import load_artifact

# Enough snapshot times for the tiny model to serve most gauges.
SERVING_SNAPSHOTS = 6


def _ingest_cut(engine, snapshots, settings):
    source = ReplayGaugeSource(snapshots)
    refresh_stations(engine, source)
    times = source.replay.snapshot_times()[:SERVING_SNAPSHOTS]
    for cycle_at in times:
        with session_scope(engine) as session:
            cycle_id = open_cycle(session, cycle_at=cycle_at, mode="replay")
        ingest_gauges(
            engine, source, cycle_id=cycle_id, cycle_at=cycle_at, settings=settings
        )
    return times[-1]


def test_nowcast_serves_trained_model(engine, database_url, shared_data, trained):
    settings = Settings(database_url=database_url, level_model_dir=str(trained.folder))
    cycle_at = _ingest_cut(engine, shared_data / "cwc_ffs" / "snapshots", settings)

    stored = forecast_gauges(engine, cycle_at=cycle_at, settings=settings)
    with session_scope(engine) as session:
        forecasts = load_forecasts(session, cycle_at)
    models = set(forecasts["model"])

    assert stored == len(forecasts) > 0
    assert load_artifact(trained.folder).name in models
    assert models <= {
        load_artifact(trained.folder).name,
        PersistenceTrendForecaster.name,
    }
    assert (forecasts["p10_m"] <= forecasts["p90_m"]).all()
