"""Command-line actions as plain functions, callable from notebooks and tests."""

import json
import logging
from datetime import datetime
from pathlib import Path

from argus.errors import InputError, SourceUnavailable
from argus.settings import load_settings
from argus.storage.db import engine_for, session_scope
from argus.storage.observations import quarantine_since
from argus.storage.villages import count_villages, upsert_villages
from argus.subscribers import SubscriberImport, import_subscribers
from argus.villages import fetch_overpass, read_osm_places, read_villages_csv

logger = logging.getLogger(__name__)


def _engine():
    return engine_for(load_settings().resolved_database_url)


def import_villages(path: Path) -> tuple[int, list[str]]:
    """Store the villages of an OSM places JSON or a villages CSV.

    Returns the number stored and the rejected rows with their reasons.
    """
    if not path.is_file():
        raise InputError(f"villages file {str(path)!r} not found")
    problems: list[str] = []
    if path.suffix.lower() == ".csv":
        read = read_villages_csv(path)
        villages = read.villages
        problems = [f"{path}:{p.line}: {p.reason}" for p in read.problems]
    else:
        villages = read_osm_places(path)
    with session_scope(_engine()) as session:
        stored = upsert_villages(session, villages, source=path.name)
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


def import_subscriber_file(path: Path) -> SubscriberImport:
    """Store the valid rows of a subscribers CSV."""
    with session_scope(_engine()) as session:
        return import_subscribers(session, path)


def summary_json(summary: dict) -> str:
    return json.dumps(summary, sort_keys=True)
