"""The steps of one nowcast cycle, as plain functions over the database.

``flows/nowcast.py`` runs them in order through thin Prefect tasks; notebooks and
tests can call them directly. Each step reads what it needs from the database
and writes its results back, so steps pass ids and times, not big frames.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from argus.errors import ContractError
from argus.settings import Settings
from argus.sources.gauges import GaugeSource
from argus.storage import observations as obs_store
from argus.storage.db import session_scope
from argus.storage.forecasts import store_official_forecasts
from argus.storage.tables import utc_now
from argus.storage.villages import load_villages
from argus.unreferenced_stations import placeholder_stations, register_accepted
from data_contracts.gauge_observations import validate_observations
from data_contracts.thresholds import check_thresholds

logger = logging.getLogger(__name__)

STATION_REFRESH_INTERVAL = timedelta(hours=24)


@dataclass
class IngestReport:
    """Counts of one cycle's gauge ingest: rows read, stored and rejected."""

    gauges_read: int = 0
    observations_stored: int = 0
    candidates_new: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    above_warning_known: bool = False
    stations_registered: dict[str, str] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def refresh_stations(
    engine: sa.Engine, source: GaugeSource, *, reuse_for: timedelta | None = None
) -> dict[str, int]:
    """Load the station reference table, judge its thresholds and store it.

    With ``reuse_for``, a stored table younger than that is kept as it is (the
    live reference tables change rarely and are large). Returns counts per
    threshold status, so the summary shows how many stations had a threshold
    set aside.
    """
    if reuse_for is not None:
        with session_scope(engine) as session:
            stored = obs_store.load_stations(session)
        if len(stored) and stored["updated_at"].min() > utc_now() - reuse_for:
            return stored["threshold_status"].value_counts().to_dict()
    stations = source.fetch_stations()
    checked = check_thresholds(stations)
    for problem in checked.problems.to_dict("records"):
        logger.info(
            "station %s: threshold rule %s: %s",
            problem["station_code"],
            problem["rule"],
            problem["note"],
        )
    if len(checked.problems):
        logger.info(
            "thresholds set aside at %d stations: %s",
            checked.problems["station_code"].nunique(),
            checked.problems["rule"].value_counts().to_dict(),
        )
    with session_scope(engine) as session:
        obs_store.upsert_stations(session, checked.stations)
    return checked.stations["threshold_status"].value_counts().to_dict()


def series_start(
    cycle_at: datetime, newest: datetime | None, settings: Settings
) -> datetime:
    """Return the time from which a cycle requests hourly series.

    Normally ``series_lookback_h`` before the cycle, so that CWC's revisions
    of recent hours are seen. With no stored reading, or the newest older than
    that (after an outage), from the newest reading but at most
    ``series_backfill_h`` back, so the history the forecaster needs is filled.
    """
    lookback = cycle_at - timedelta(hours=settings.series_lookback_h)
    backfill = cycle_at - timedelta(hours=settings.series_backfill_h)
    if newest is None:
        return min(lookback, backfill)
    return min(lookback, max(backfill, newest))


def ingest_gauges(
    engine: sa.Engine,
    source: GaugeSource,
    *,
    cycle_id: int,
    cycle_at: datetime,
    settings: Settings,
) -> IngestReport:
    """Fetch the gauges, judge the new values with the contracts, store both.

    A failed part of the source (one file, one API call) is reported in
    ``failures`` and the rest goes on. A gauge missing from the station table
    is judged as a station without reference levels and registered once it
    has an accepted reading (see :mod:`argus.unreferenced_stations`).
    """
    report = IngestReport()
    with session_scope(engine) as session:
        station_codes = stations_near_villages(session)
        newest = obs_store.newest_observed_at(session)
    started = time.perf_counter()
    since = series_start(cycle_at, newest, settings)
    batch = source.fetch_batch(cycle_at, station_codes=station_codes, since=since)
    report.stage_seconds["fetch"] = _since(started)
    report.failures = [str(failure) for failure in batch.failures]
    report.above_warning_known = batch.above_warning is not None
    candidates = batch.observations

    with session_scope(engine) as session:
        stations = obs_store.load_stations(session)
        new = obs_store.select_new_candidates(session, candidates, as_of=cycle_at)
        placeholders = placeholder_stations(new, stations)
        history_since = cycle_at - timedelta(days=settings.contract_history_days)
        history = obs_store.load_accepted_history(
            session, history_since, as_of=cycle_at
        )
        history = history[history["observed_at"] <= cycle_at]
        report.candidates_new = len(new)
        started = time.perf_counter()
        try:
            judged = validate_observations(
                new,
                stations=_with_placeholders(stations, placeholders),
                history=history,
                now=cycle_at,
            )
        except ContractError as error:
            report.failures.append(f"{source.name}: {error}")
            logger.error("gauge contract could not run: %s", error)
            return report
        report.stage_seconds["validate"] = _since(started)
        report.stations_registered = register_accepted(
            session, placeholders, judged.accepted
        )
        report.observations_stored = obs_store.store_judged(
            session,
            accepted=judged.accepted,
            quarantined=judged.quarantined,
            cycle_id=cycle_id,
            published_at=cycle_at,
        )
        report.quarantined_by_rule = {
            rule: int(count) for rule, count in judged.counts_by_rule.items() if count
        }
        report.gauges_read = _gauges_with_accepted(session, candidates, as_of=cycle_at)
        store_official_forecasts(session, batch.official_forecasts)

    for failure in report.failures:
        logger.warning("gauge source part failed: %s", failure)
    logger.info(
        "cycle %d: %d new candidate rows, %d stored, %d quarantined, %d gauges read",
        cycle_id,
        report.candidates_new,
        report.observations_stored,
        sum(report.quarantined_by_rule.values()),
        report.gauges_read,
    )
    return report


def stations_near_villages(session, *, margin_deg: float = 1.0) -> list[str] | None:
    """Codes of stations within the villages' bounding box widened by a margin.

    The live site lists all of India, so a cycle requests the hourly series of
    the region's gauges only. None (all stations) when no villages are loaded.

    NOTE: a gauge missing from the station table has no position, so with
    villages loaded a live cycle never reads it. A replay reads every gauge.
    """
    villages = load_villages(session)
    if villages.empty:
        return None
    stations = obs_store.load_stations(session)
    inside = stations["lat"].between(
        villages["lat"].min() - margin_deg, villages["lat"].max() + margin_deg
    ) & stations["lon"].between(
        villages["lon"].min() - margin_deg, villages["lon"].max() + margin_deg
    )
    return sorted(stations.loc[inside, "station_code_raw"].astype(str))


def _gauges_with_accepted(session, candidates: pd.DataFrame, *, as_of: datetime) -> int:
    """Count stations with at least one accepted reading among this cycle's rows."""
    keyed = candidates.dropna(subset=["observed_at"])
    if keyed.empty:
        return 0
    newest = obs_store.newest_revisions(
        session, keyed["observed_at"].min(), as_of=as_of
    )
    newest = newest[newest["accepted"].astype(bool)]
    merged = keyed.merge(
        newest, on=["station_code", "observed_at"], suffixes=("", "_stored")
    )
    return int(merged["station_code"].nunique())


def _with_placeholders(
    stations: pd.DataFrame, placeholders: pd.DataFrame
) -> pd.DataFrame:
    if placeholders.empty:
        return stations
    return pd.concat([stations, placeholders.drop(columns="source")], ignore_index=True)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)
