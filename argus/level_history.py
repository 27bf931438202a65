"""Contract-checked gauge history from recorded snapshots, for training models.

The snapshots go through the nowcast's own ingest (:func:`argus.cycle.ingest_gauges`)
into a scratch database, once per snapshot time, so the data contracts judge
every value exactly as a live cycle would. Only the revision in use at the end,
and only when accepted, is returned: a value the contracts rejected never
trains or scores a model.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlmodel import select

from argus.cycle import ingest_gauges, refresh_stations
from argus.errors import ReplayError
from argus.settings import Settings
from argus.sources.gauges import ReplayGaugeSource
from argus.storage import observations as obs_store
from argus.storage.cycles import close_cycle, open_cycle
from argus.storage.db import create_db_engine, migrate, session_scope
from argus.storage.tables import Cycle, OfficialForecast

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LevelHistory:
    """Accepted levels, station table and CWC forecasts of a snapshot folder.

    ``levels`` has ``station_code``, ``observed_at`` (UTC), ``level_m`` [m];
    ``official`` has ``station_code``, ``issued_at``, ``forecast_for`` (UTC)
    and ``level_m`` [m]; ``stations`` is the reference table of
    :func:`argus.storage.observations.load_stations`.
    """

    levels: pd.DataFrame
    stations: pd.DataFrame
    official: pd.DataFrame


def ingest_snapshots(
    snapshot_dir: Path,
    *,
    database_path: Path,
    stations_file: Path | None = None,
    max_snapshots: int | None = None,
) -> dict[str, int]:
    """Ingest a snapshot folder, time by time, into a new SQLite database.

    Parameters
    ----------
    snapshot_dir
        Folder of ``ffs_<time>.json[.gz]`` snapshots.
    database_path
        Scratch SQLite file; an existing one is replaced.
    stations_file
        Station reference file; by default found next to the snapshots.
    max_snapshots
        Ingest only the first this many snapshot times (a cut for tests).

    Returns
    -------
    dict
        Readings quarantined per contract rule, summed over all times.

    Raises
    ------
    ReplayError
        If the folder contains no snapshot or no station file is found.
    """
    engine = _new_database(Path(database_path))
    source = ReplayGaugeSource(Path(snapshot_dir), stations_file)
    times = source.replay.snapshot_times()
    if not times:
        raise ReplayError(
            f"replay folder {str(snapshot_dir)!r} contains no "
            "ffs_<YYYY-MM-DDTHHMM>[_N].json[.gz] files"
        )
    times = times[:max_snapshots] if max_snapshots else times
    settings = Settings(database_url=str(engine.url), home=Path(database_path).parent)

    refresh_stations(engine, source)
    quarantined: dict[str, int] = {}
    for cycle_at in times:
        with session_scope(engine) as session:
            cycle_id = open_cycle(session, cycle_at=cycle_at, mode="training")
        report = ingest_gauges(
            engine, source, cycle_id=cycle_id, cycle_at=cycle_at, settings=settings
        )
        for rule, count in report.quarantined_by_rule.items():
            quarantined[rule] = quarantined.get(rule, 0) + count
        with session_scope(engine) as session:
            close_cycle(session, cycle_id, summary={}, status="completed")
    engine.dispose()
    logger.info(
        "ingested %d snapshot times of %s; quarantined %s",
        len(times),
        snapshot_dir,
        quarantined,
    )
    return quarantined


def read_level_history(database_path: Path) -> LevelHistory:
    """Read the accepted levels, stations and CWC forecasts of a database.

    Each station and hour gives its newest revision, and only when the
    contracts accepted it.
    """
    engine = create_db_engine(f"sqlite:///{database_path}")
    with session_scope(engine) as session:
        last = session.exec(select(sa.func.max(Cycle.cycle_at))).one()
        if last is None:
            raise ReplayError(
                f"database {str(database_path)!r} contains no ingested snapshot; "
                "run the ingest first"
            )
        levels = obs_store.load_accepted_history(
            session, datetime(1900, 1, 1, tzinfo=UTC), as_of=last
        )
        stations = obs_store.load_stations(session)
        rows = session.exec(
            select(
                OfficialForecast.station_code,
                OfficialForecast.issued_at,
                OfficialForecast.forecast_for,
                OfficialForecast.level_m,
            )
        ).all()
    engine.dispose()
    official = pd.DataFrame(
        rows, columns=["station_code", "issued_at", "forecast_for", "level_m"]
    )
    for column in ("issued_at", "forecast_for"):
        official[column] = pd.to_datetime(official[column], utc=True)
    official["level_m"] = official["level_m"].astype(float)
    return LevelHistory(levels=levels, stations=stations, official=official)


def _new_database(path: Path) -> sa.Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine
