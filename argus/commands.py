"""Command-line actions as plain functions, callable from notebooks and tests."""

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from argus.errors import InputError, SourceUnavailable
from argus.reference_gauges import assign_reference_gauges
from argus.settings import load_settings
from argus.storage.cycles import latest_cycle
from argus.storage.db import engine_for, session_scope
from argus.storage.observations import (
    load_accepted_history,
    load_stations,
    quarantine_since,
)
from argus.storage.source_tables import VillageSource
from argus.storage.tables import Village, VillageState
from argus.storage.villages import count_villages, upsert_villages
from argus.subscribers import SubscriberImport, import_subscribers
from argus.villages import fetch_overpass, read_village_file

logger = logging.getLogger(__name__)


def _engine():
    return engine_for(load_settings().resolved_database_url)


def import_villages(path: Path) -> tuple[int, list[str]]:
    """Store the villages of an OSM places JSON or a villages CSV.

    Returns the number stored and the rejected rows with their reasons.
    """
    read = read_village_file(path)
    problems = [f"{path}:{p.line}: {p.reason}" for p in read.problems]
    with session_scope(_engine()) as session:
        stored = upsert_villages(session, read.villages, source=path.name)
    return stored, problems


def fetch_villages(region: str) -> int:
    """Fetch the villages of ``region`` from Overpass and store them."""
    settings = load_settings()
    try:
        villages = fetch_overpass(
            region,
            url=settings.overpass_url,
            timeout_s=max(settings.http_timeout_s, 180),
        )
    except SourceUnavailable as error:
        raise SourceUnavailable(
            "villages",
            f"OpenStreetMap Overpass API at {settings.overpass_url} could not be "
            f"reached ({error.cause}); no villages were loaded",
        ) from error
    with session_scope(_engine()) as session:
        return upsert_villages(session, villages, source=f"overpass:{region}")


def villages_loaded() -> int:
    """Number of villages in the registry."""
    with session_scope(_engine()) as session:
        return count_villages(session)


def quarantined_rows(since: datetime) -> list[dict]:
    """Quarantined readings observed since ``since``, as JSON-able dicts."""
    with session_scope(_engine()) as session:
        rows = quarantine_since(session, since)
    return [
        {
            "station_code": row.station_code or row.station_code_raw,
            "observed_at": row.observed_at.isoformat() if row.observed_at else None,
            "value": row.level_m if row.level_m is not None else row.value_raw,
            "rule": row.rule,
            "rules": row.rules.split(","),
            "datatype": row.datatype,
            "source": row.source,
        }
        for row in rows
    ]


def describe_village(village_id: str) -> dict:
    """Report a village's reference gauge, its latest reading and its level.

    The gauge and its reading are judged as of the latest cycle, so the report
    explains the level (or the unmonitored state) that cycle gave the village.

    Raises
    ------
    InputError
        When no village has this id.
    """
    settings = load_settings()
    with session_scope(_engine()) as session:
        village = session.get(Village, village_id)
        if village is None:
            raise InputError(f"village {village_id!r} not found in the registry")
        stations = load_stations(session)
        state = session.get(VillageState, village_id)
        decided_by = session.get(VillageSource, village_id)
        cycle = latest_cycle(session)
        as_of = cycle.cycle_at if cycle else datetime.now(UTC)
        history = load_accepted_history(session, as_of - timedelta(days=7), as_of=as_of)

    frame = pd.DataFrame([village.model_dump()])
    reference = assign_reference_gauges(
        frame, stations, max_distance_km=settings.reference_gauge_max_distance_km
    ).iloc[0]
    code = reference["station_code"]
    readings = history[history["station_code"] == code] if code else history.iloc[0:0]
    latest = readings.iloc[-1] if len(readings) else None
    age_h = (
        (as_of - latest["observed_at"].to_pydatetime()).total_seconds() / 3600
        if latest is not None
        else None
    )
    return {
        "village_id": village.village_id,
        "name": village.name,
        "district": village.district,
        "revenue_circle": village.revenue_circle,
        "reference_station_code": code,
        "reference_distance_km": _rounded(reference["distance_km"]),
        "reference_rule": reference["rule"],
        "as_of": as_of.isoformat(),
        "latest_level_m": None if latest is None else float(latest["level_m"]),
        "latest_observed_at": None
        if latest is None
        else latest["observed_at"].isoformat(),
        "latest_age_h": None if age_h is None else round(age_h, 2),
        "gauge_usable": age_h is not None and 0 <= age_h <= settings.gauge_max_age_h,
        "level": state.level if state else None,
        "level_since": state.since.isoformat() if state else None,
        "reasons": json.loads(state.reasons) if state else [],
        "level_source": decided_by.source if decided_by else None,
        "degraded_reason": decided_by.reason if decided_by else "",
    }


def _rounded(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def import_subscriber_file(path: Path) -> SubscriberImport:
    """Store the valid rows of a subscribers CSV."""
    with session_scope(_engine()) as session:
        return import_subscribers(session, path)
