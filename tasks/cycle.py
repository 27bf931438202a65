"""Tasks of the nowcast cycle: thin wrappers of ``argus.cycle`` and friends."""

from dataclasses import asdict
from datetime import datetime

from prefect import get_run_logger, task

from argus import assess, cameras, cycle, satellite, trust
from argus.sources.gauges import open_gauge_source
from argus.storage import cycles as cycle_store
from argus.storage.db import session_scope
from tasks.common import retry_if_transient, settings_and_engine

DATABASE_RETRIES = {
    "retries": 2,
    "retry_delay_seconds": [2, 10],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_if_transient,
}


@task(**DATABASE_RETRIES)
def open_cycle(cycle_at: datetime, mode: str) -> int:
    """Record the start of the cycle; returns its id."""
    _, engine = settings_and_engine()
    with session_scope(engine) as session:
        return cycle_store.open_cycle(session, cycle_at=cycle_at, mode=mode)


@task(**DATABASE_RETRIES)
def refresh_stations(replay_dir: str | None, stations_file: str | None) -> dict:
    """Load the station reference table and judge its thresholds."""
    settings, engine = settings_and_engine()
    source = open_gauge_source(
        settings, replay_dir=replay_dir, stations_file=stations_file
    )
    reuse_for = None if replay_dir else cycle.STATION_REFRESH_INTERVAL
    counts = cycle.refresh_stations(engine, source, reuse_for=reuse_for)
    get_run_logger().info("station thresholds by status: %s", counts)
    return counts


@task(**DATABASE_RETRIES, timeout_seconds=900)
def ingest_gauges(
    cycle_id: int, cycle_at: datetime, replay_dir: str | None, stations_file: str | None
) -> dict:
    """Fetch, validate and store the gauge observations of this cycle."""
    settings, engine = settings_and_engine()
    source = open_gauge_source(
        settings, replay_dir=replay_dir, stations_file=stations_file
    )
    report = cycle.ingest_gauges(
        engine, source, cycle_id=cycle_id, cycle_at=cycle_at, settings=settings
    )
    return asdict(report)


@task(**DATABASE_RETRIES, timeout_seconds=300)
def ingest_cameras(cycle_id: int, cycle_at: datetime, replay_dir: str | None) -> dict:
    """Read new camera frames into virtual gauge observations (when configured)."""
    settings, engine = settings_and_engine()
    report = cameras.ingest_cameras(
        engine,
        cycle_id=cycle_id,
        cycle_at=cycle_at,
        settings=settings,
        fetch=replay_dir is None,
    )
    return asdict(report)


@task(**DATABASE_RETRIES, timeout_seconds=900)
def ingest_scenes(cycle_at: datetime) -> dict:
    """Ingest the new satellite scenes acquired by the cycle time."""
    settings, engine = settings_and_engine()
    report = satellite.ingest_scenes(engine, settings=settings, cycle_at=cycle_at)
    return asdict(report)


@task(**DATABASE_RETRIES)
def update_gauge_trust(cycle_id: int, cycle_at: datetime) -> int:
    """Move every gauge's trust score toward this cycle's evidence."""
    settings, engine = settings_and_engine()
    return trust.update_gauge_trust(
        engine,
        cycle_id=cycle_id,
        cycle_at=cycle_at,
        max_age_h=settings.gauge_max_age_h,
    )


@task(**DATABASE_RETRIES)
def forecast_gauges(cycle_at: datetime) -> int:
    """Issue the 1..24 h level forecasts of every gauge."""
    settings, engine = settings_and_engine()
    return assess.forecast_gauges(engine, cycle_at=cycle_at, settings=settings)


@task(**DATABASE_RETRIES, timeout_seconds=900)
def assess_villages(cycle_at: datetime) -> dict:
    """Decide every village's level; returns counts and the level changes."""
    settings, engine = settings_and_engine()
    result = assess.assess_villages(engine, cycle_at=cycle_at, settings=settings)
    return asdict(result)


@task(**DATABASE_RETRIES)
def close_cycle(cycle_id: int, summary: dict, status: str) -> None:
    """Record the cycle's summary."""
    _, engine = settings_and_engine()
    with session_scope(engine) as session:
        cycle_store.close_cycle(session, cycle_id, summary=summary, status=status)
