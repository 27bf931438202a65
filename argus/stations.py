"""CWC station codes and the canonical station reference table.

CWC writes one station code in several spellings ("024- MDSIL", "012-ubddib"),
so every code is normalised before it is used as a key. The reference table
holds one row per normalised code with the published warning level, danger
level and highest flood level [m above mean sea level].

Two inputs build the same table: the recorded file ``stations_assam.json``
(:func:`read_stations_file`) and the live FFS reference tables
``flood-forecast-static`` + ``layer-station-geo``
(:func:`stations_from_reference_tables`).

Station types: FFS labels a forecast site ``Level``, an observation-only site
``Base`` and a reservoir ``Inflow``. ``Base`` sites report river levels
(``HHS``) too: 126 of the 151 stations with a latest level in the recordings
are ``Base``. So every type is kept and marked in the ``station_type`` column;
a consumer that wants level gauges only filters out ``Inflow``.
"""

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from argus.errors import InputError

logger = logging.getLogger(__name__)

STATION_COLUMNS: tuple[str, ...] = (
    "station_code",
    "station_code_raw",
    "name",
    "river",
    "lat",
    "lon",
    "district",
    "revenue_circle",
    "warning_level_m",
    "danger_level_m",
    "highest_flood_level_m",
    "highest_flood_level_date",
    "station_type",
)
"""Columns of the reference table, in order.

Thresholds, ``lat`` and ``lon`` are floats (NaN when missing);
``highest_flood_level_date`` is the published ``YYYY-MM-DD`` text or missing;
``station_type`` is ``Level``, ``Base``, ``Inflow`` or missing.
"""

STATION_TYPES: tuple[str, ...] = ("Level", "Inflow", "Base")
"""FFS station types requested from the reference tables."""

_FLOAT_COLUMNS = (
    "lat",
    "lon",
    "warning_level_m",
    "danger_level_m",
    "highest_flood_level_m",
)
_WHITESPACE = re.compile(r"\s+")


def normalise_station_code(raw: str) -> str:
    """Return the canonical spelling of a CWC station code.

    Whitespace is removed everywhere (around the dash included) and letters
    are upper-cased: ``"025 - MDSIL"`` becomes ``"025-MDSIL"``.

    Parameters
    ----------
    raw : str
        Station code as CWC wrote it.

    Returns
    -------
    str
        Normalised station code.

    Raises
    ------
    ValueError
        If ``raw`` is not a string or holds only whitespace.
    """
    if not isinstance(raw, str):
        # ValueError, not TypeError: callers catch one error for any bad code.
        raise ValueError(  # noqa: TRY004
            f"station code {raw!r} has type {type(raw).__name__}, not text; "
            "pass the code as a string such as '002-LBDJPG'"
        )
    code = _WHITESPACE.sub("", raw).upper()
    if not code:
        raise ValueError(
            f"station code {raw!r} is empty; every station needs a code "
            "such as '002-LBDJPG'"
        )
    return code


def read_stations_file(path: Path) -> pd.DataFrame:
    """Read a recorded station reference file into the reference table.

    The file is a JSON object ``{"stations": {code: record}}`` as in
    ``cwc_ffs/stations_assam.json``; a record's ``coordinates`` are
    ``[lon, lat]`` [degrees].

    Parameters
    ----------
    path : Path
        The JSON file.

    Returns
    -------
    pandas.DataFrame
        One row per normalised station code, columns :data:`STATION_COLUMNS`,
        in file order. Where two raw codes normalise to one code, the first
        is kept and a warning names both.

    Raises
    ------
    InputError
        If the file cannot be read, is not JSON or lacks the ``stations``
        object.
    """
    stations = _load_stations_object(path)
    records = [_record_from_file(code, entry, path) for code, entry in stations]
    frame = _station_frame(records)
    logger.info("read %d stations from %s", len(frame), path)
    return frame


def stations_from_reference_tables(
    static: list[dict[str, Any]],
    geo: list[dict[str, Any]],
    *,
    station_types: Iterable[str] = STATION_TYPES,
) -> pd.DataFrame:
    """Build the reference table from the live FFS reference tables.

    Parameters
    ----------
    static : list of dict
        Rows of ``flood-forecast-static``: ``stationCode``, ``type``,
        ``warningLevel``, ``dangerLevel``, ``highestFlowLevel`` (the highest
        flood level) [m] and ``highestFlowLevelDate``.
    geo : list of dict
        Rows of ``layer-station-geo``: ``stationCode``, ``name``, ``lat``,
        ``lon`` [degrees].
    station_types : iterable of str, optional
        Types kept; rows of other types are left out. Default: all three.

    Returns
    -------
    pandas.DataFrame
        One row per normalised code of ``static``, columns
        :data:`STATION_COLUMNS`. ``river``, ``district`` and
        ``revenue_circle`` are missing: these two tables do not carry them.

    Raises
    ------
    ValueError
        If ``static`` or ``geo`` is not a list of JSON objects.
    """
    # NOTE: river and district live in further FFS tables (layer-station,
    # master-basin-localriver, layer-district) that are not read yet.
    kept_types = set(station_types)
    locations = _index_by_code(geo, table="layer-station-geo")
    records = []
    for code, row in _coded_rows(static, table="flood-forecast-static"):
        if row.get("type") in kept_types:
            records.append(_record_from_tables(code, row, locations))
    return _station_frame(records)


def _load_stations_object(path: Path) -> list[tuple[str, Any]]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            f"station file {str(path)!r} cannot be read as JSON ({error}); "
            "pass a file shaped like cwc_ffs/stations_assam.json"
        ) from error
    stations = document.get("stations") if isinstance(document, dict) else None
    if not isinstance(stations, dict):
        raise InputError(
            f"station file {str(path)!r} has no 'stations' object mapping "
            "codes to records; pass a file shaped like "
            "cwc_ffs/stations_assam.json"
        )
    return list(stations.items())


def _record_from_file(code: str, entry: Any, path: Path) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise InputError(
            f"station {code!r} in {str(path)!r} has type {type(entry).__name__}, "
            "not an object; fix or remove that entry"
        )
    lon, lat = _lon_lat(entry.get("coordinates"))
    return {
        "station_code_raw": code,
        "name": entry.get("site_name"),
        "river": entry.get("river"),
        "lat": lat,
        "lon": lon,
        "district": entry.get("district"),
        "revenue_circle": entry.get("revenue_circle"),
        "warning_level_m": entry.get("warning_level_m"),
        "danger_level_m": entry.get("danger_level_m"),
        "highest_flood_level_m": entry.get("highest_flood_level_m"),
        "highest_flood_level_date": entry.get("highest_flood_level_date"),
        "station_type": entry.get("station_type"),
    }


def _record_from_tables(
    code: str, row: Mapping[str, Any], locations: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    location = locations.get(normalise_station_code(code), {})
    return {
        "station_code_raw": code,
        "name": location.get("name"),
        "river": None,
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "district": None,
        "revenue_circle": None,
        "warning_level_m": row.get("warningLevel"),
        "danger_level_m": row.get("dangerLevel"),
        "highest_flood_level_m": row.get("highestFlowLevel"),
        "highest_flood_level_date": row.get("highestFlowLevelDate"),
        "station_type": row.get("type"),
    }


def _coded_rows(rows: Any, *, table: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Rows of a reference table with a usable station code, in order."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(
            f"FFS table {table} has type {type(rows).__name__}, not a list of "
            "objects; check the API answer"
        )
    coded = [(row.get("stationCode"), row) for row in rows]
    usable = [(c, r) for c, r in coded if isinstance(c, str) and c.strip()]
    if len(usable) < len(coded):
        logger.warning(
            "FFS table %s: %d rows without a station code left out",
            table,
            len(coded) - len(usable),
        )
    return usable


def _index_by_code(rows: Any, *, table: str) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for code, row in _coded_rows(rows, table=table):
        index.setdefault(normalise_station_code(code), row)
    return index


def _lon_lat(coordinates: Any) -> tuple[float, float]:
    if isinstance(coordinates, list | tuple) and len(coordinates) == 2:
        return finite_float(coordinates[0]), finite_float(coordinates[1])
    return math.nan, math.nan


def finite_float(value: Any) -> float:
    """Convert to a finite float, or NaN for a missing, non-numeric or infinite value."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _station_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Normalise codes, drop repeated codes (keeping the first) and type columns."""
    first_raw: dict[str, str] = {}
    kept = []
    for record in records:
        code = normalise_station_code(record["station_code_raw"])
        if code in first_raw:
            logger.warning(
                "station codes %r and %r both normalise to %r; keeping %r",
                first_raw[code],
                record["station_code_raw"],
                code,
                first_raw[code],
            )
            continue
        first_raw[code] = record["station_code_raw"]
        kept.append({"station_code": code, **record})
    frame = pd.DataFrame(kept, columns=list(STATION_COLUMNS))
    for column in _FLOAT_COLUMNS:
        frame[column] = [finite_float(v) for v in frame[column]]
        frame[column] = frame[column].astype("float64")
    return frame
