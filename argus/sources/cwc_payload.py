"""Parsing of CWC FFS JSON into canonical frames, shared by live and replay.

FFS writes times as Indian Standard Time without an offset
(``2026-07-30T14:00:00``); a time with an explicit offset keeps it. Every frame
here holds timezone-aware UTC times and levels in metres above mean sea level.

Payload versus row errors: a payload of the wrong shape (not a list where a
list is expected, a row that is not an object, no row carrying any expected
field) raises :class:`~argus.errors.PayloadError`. One bad row inside a good
list is kept, with NaT or NaN where its time or value cannot be read and the
raw text alongside, so the data contract quarantines it with a reason. A row
without a station code gets ``station_code == ""`` (the contract rejects it).
Rows of every datatype are kept (``HZS``, ``MPS``, ... are not levels; the
contract quarantines them).
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd

from argus.errors import PayloadError, SourceError
from argus.stations import finite_float, normalise_station_code

logger = logging.getLogger(__name__)

IST = timezone(timedelta(hours=5, minutes=30), "IST")
"""Indian Standard Time, the zone of every offset-less CWC time."""

OBSERVATION_COLUMNS: tuple[str, ...] = (
    "station_code",
    "station_code_raw",
    "observed_at",
    "observed_at_raw",
    "level_m",
    "level_raw",
    "datatype",
    "source",
)
ABOVE_WARNING_COLUMNS: tuple[str, ...] = ("station_code", "status", "trend", "level_m")
FORECAST_COLUMNS: tuple[str, ...] = (
    "station_code",
    "issued_at",
    "forecast_for",
    "level_m",
    "trend",
)
OBSERVATION_KEY: tuple[str, ...] = ("station_code", "observed_at", "datatype")
"""Columns that identify one observation; a later publication revises it."""
FORECAST_KEY: tuple[str, ...] = ("station_code", "issued_at", "forecast_for")

_TIME_DTYPE = "datetime64[us, UTC]"


@dataclass
class GaugeBatch:
    """What a gauge source delivered in one cycle.

    Attributes
    ----------
    observations : pandas.DataFrame
        Series rows and latest-level rows together, columns
        :data:`OBSERVATION_COLUMNS`, de-duplicated only where identical.
    above_warning : pandas.DataFrame or None
        CWC's WARNING/DANGER status per station; None when unknown (the call
        failed or answered an empty list).
    official_forecasts : pandas.DataFrame
        CWC's approved forecasts, columns :data:`FORECAST_COLUMNS`.
    failures : list of SourceError
        Each part of the source (one call, one file) that failed this cycle.
    sources_read : list of str
        Each call or file that delivered data.
    """

    observations: pd.DataFrame
    above_warning: pd.DataFrame | None
    official_forecasts: pd.DataFrame
    failures: list[SourceError] = field(default_factory=list)
    sources_read: list[str] = field(default_factory=list)


def parse_ffs_time(raw: Any) -> datetime | None:
    """Parse one FFS time to an aware UTC datetime.

    Parameters
    ----------
    raw : Any
        ISO text such as ``2026-07-30T14:00:00.000`` (IST when it has no
        offset) or ``2026-07-30T12:05:00+05:30``.

    Returns
    -------
    datetime or None
        The time in UTC, or None when ``raw`` is missing or unparseable.
    """
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=IST)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # A time at the very edge of the calendar (year 1) has no UTC value.
        return None


def format_ffs_time(moment: datetime) -> str:
    """Write an aware time the way FFS queries expect: IST, no offset, ms.

    Parameters
    ----------
    moment : datetime
        Timezone-aware time.

    Returns
    -------
    str
        For example ``2026-07-30T14:00:00.000``.
    """
    require_aware(moment, name="query time")
    return (
        moment.astimezone(IST).replace(tzinfo=None).isoformat(timespec="milliseconds")
    )


def require_aware(moment: datetime, *, name: str) -> datetime:
    """Return ``moment`` if it carries a time zone; raise ValueError if not.

    Parameters
    ----------
    moment : datetime
        The time to check.
    name : str
        What the time is, for the message (``"at"``, ``"since"``).
    """
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(
            f"{name} {moment!r}: time zone missing; pass an aware datetime "
            "such as datetime(2026, 7, 30, 8, 30, tzinfo=timezone.utc)"
        )
    return moment


def parse_series(rows: Any, *, source: str) -> pd.DataFrame:
    """Parse ``new-entry-data`` rows into the observation frame.

    Parameters
    ----------
    rows : list of dict, or dict of str to list of dict
        The API's list, or the recorded layout (station code -> rows).
    source : str
        Name of the file or call that delivered the rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OBSERVATION_COLUMNS`; ``level_m`` [m].
    """
    if isinstance(rows, dict):
        rows = [row for part in _lists_of(rows, source) for row in part]
    checked = _check_rows(rows, source, ("id", "dataValue", "stationCode"))
    records = [
        _observation(
            code=_first(row, "id.stationCode", "stationCode"),
            time=_first(row, "id.dataTime"),
            value=row.get("dataValue"),
            datatype=_first(row, "datatypeCode", "id.datatypeCode"),
            source=source,
        )
        for row in checked
    ]
    return _observation_frame(records)


def parse_latest_levels(rows: Any, *, source: str) -> pd.DataFrame:
    """Parse ``new-entry-data-aggregate`` rows into the observation frame.

    Parameters
    ----------
    rows : list of dict
        Rows with ``stationCode``, ``latestDataTime``, ``latestDataValue`` and
        ``datatypeCode``.
    source : str
        Name of the file or call that delivered the rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OBSERVATION_COLUMNS`; ``level_m`` [m].
    """
    checked = _check_rows(rows, source, ("latestDataTime", "latestDataValue"))
    records = [
        _observation(
            code=_first(row, "stationCode", "id.stationCode"),
            time=row.get("latestDataTime"),
            value=row.get("latestDataValue"),
            datatype=_first(row, "datatypeCode", "id.datatypeCode"),
            source=source,
        )
        for row in checked
    ]
    return _observation_frame(records)


def parse_above_warning(rows: Any, *, source: str) -> pd.DataFrame | None:
    """Parse ``station-water-level-above-warning`` rows.

    Parameters
    ----------
    rows : list of dict
        Rows with ``stationCode``, ``status``, ``trend`` and ``value`` [m].
    source : str
        Name of the file or call that delivered the rows.

    Returns
    -------
    pandas.DataFrame or None
        Columns :data:`ABOVE_WARNING_COLUMNS` (status and trend upper-case);
        None for an empty list, which means unknown, not "none above warning".
    """
    checked = _check_rows(rows, source, ("stationCode", "status"))
    if not checked:
        return None
    records = [
        {
            "station_code": _code(row.get("stationCode"))[0],
            "status": _word(row.get("status")),
            "trend": _word(row.get("trend")),
            "level_m": finite_float(row.get("value")),
        }
        for row in checked
    ]
    return pd.DataFrame(records, columns=list(ABOVE_WARNING_COLUMNS))


def parse_forecasts(rows: Any, *, source: str) -> pd.DataFrame:
    """Parse ``new-forecasted-entry-data`` rows (CWC's official forecasts).

    Parameters
    ----------
    rows : list of dict
        Rows with ``id.stationCode``, ``id.issuedDate``, ``id.forecastedDate``,
        ``realValue`` and ``trend``.
    source : str
        Name of the file or call that delivered the rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FORECAST_COLUMNS`; times UTC, ``level_m`` [m], trend
        upper-case.
    """
    # NOTE: rows with datatypeCode FIN (reservoir inflow) are kept like levels;
    # the frame has no datatype column to tell them apart.
    checked = _check_rows(rows, source, ("id", "realValue"))
    records = [
        {
            "station_code": _code(_first(row, "id.stationCode", "stationCode"))[0],
            "issued_at": parse_ffs_time(_first(row, "id.issuedDate")),
            "forecast_for": parse_ffs_time(_first(row, "id.forecastedDate")),
            "level_m": finite_float(row.get("realValue")),
            "trend": _word(row.get("trend")),
        }
        for row in checked
    ]
    frame = pd.DataFrame(records, columns=list(FORECAST_COLUMNS))
    for column in ("issued_at", "forecast_for"):
        frame[column] = _utc_column(frame[column])
    frame["level_m"] = frame["level_m"].astype("float64")
    return frame


def parse_snapshot(payload: Any, *, source: str) -> GaugeBatch:
    """Parse one recorded FFS poll (a ``ffs_*.json[.gz]`` object).

    Parameters
    ----------
    payload : dict
        Object with the lists ``latest_levels``, ``above_warning``,
        ``forecasts`` and the object ``series`` (station code -> rows).
    source : str
        The file name; observation rows get ``<source>:series`` or
        ``<source>:latest_levels``, so a replay can tell the two FFS tables
        apart (they disagree at times, as at 030-MBDGHY on 2026-07-31).

    Returns
    -------
    GaugeBatch
        The poll's observations, above-warning list and forecasts.

    Raises
    ------
    PayloadError
        If the object or one of its parts has the wrong shape.
    """
    if not isinstance(payload, dict):
        raise PayloadError(source, f"has type {type(payload).__name__}, not an object")
    missing = {"latest_levels", "series", "above_warning", "forecasts"} - set(payload)
    if missing:
        raise PayloadError(source, f"lacks the parts {sorted(missing)}")
    observations = merge_observations(
        [
            parse_series(payload["series"], source=f"{source}:series"),
            parse_latest_levels(
                payload["latest_levels"], source=f"{source}:latest_levels"
            ),
        ]
    )
    return GaugeBatch(
        observations=observations,
        above_warning=parse_above_warning(payload["above_warning"], source=source),
        official_forecasts=parse_forecasts(payload["forecasts"], source=source),
        sources_read=[source],
    )


def merge_observations(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate observation frames, dropping rows identical but for source.

    Parameters
    ----------
    frames : list of pandas.DataFrame
        Observation frames; the first copy of a repeated row is kept.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OBSERVATION_COLUMNS`, default index.
    """
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_observations()
    merged = pd.concat(frames, ignore_index=True)
    identity = [c for c in OBSERVATION_COLUMNS if c != "source"]
    return merged.drop_duplicates(subset=identity).reset_index(drop=True)


def empty_observations() -> pd.DataFrame:
    """An observation frame with no rows and the canonical column types."""
    return _observation_frame([])


def empty_forecasts() -> pd.DataFrame:
    """A forecast frame with no rows and the canonical column types."""
    return parse_forecasts([], source="none")


def _lists_of(series: dict[str, Any], source: str) -> list[list[Any]]:
    bad = [code for code, part in series.items() if not isinstance(part, list)]
    if bad:
        raise PayloadError(source, f"series of station {bad[0]!r} is not a list")
    return list(series.values())


def _check_rows(rows: Any, source: str, expected: tuple[str, ...]) -> list[dict]:
    """The rows, after checking the payload's shape (not each row's content)."""
    if not isinstance(rows, list):
        raise PayloadError(source, f"has type {type(rows).__name__}, expected a list")
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PayloadError(
                source, f"row {position} has type {type(row).__name__}, not an object"
            )
        if "id" in expected and not isinstance(row.get("id", {}), dict):
            raise PayloadError(
                source, f"row {position} has an 'id' that is not an object"
            )
    if rows and not any(key in row for row in rows for key in expected):
        raise PayloadError(
            source, f"none of its {len(rows)} rows has any of the fields {expected}"
        )
    return rows


def _first(row: Mapping[str, Any], *paths: str) -> Any:
    """The first non-null value among dotted ``paths`` of ``row``."""
    for path in paths:
        value: Any = row
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _code(raw: Any) -> tuple[str, str]:
    """(normalised code, raw text); ``""`` for a missing or blank code."""
    if raw is None:
        return "", ""
    text = str(raw)
    return (normalise_station_code(text) if text.strip() else ""), text


def _word(raw: Any) -> str | None:
    return raw.strip().upper() if isinstance(raw, str) and raw.strip() else None


def _raw_text(value: Any) -> str:
    return "" if value is None else str(value)


def _observation(
    *, code: Any, time: Any, value: Any, datatype: Any, source: str
) -> dict[str, Any]:
    station_code, station_code_raw = _code(code)
    return {
        "station_code": station_code,
        "station_code_raw": station_code_raw,
        "observed_at": parse_ffs_time(time),
        "observed_at_raw": _raw_text(time),
        "level_m": finite_float(value),
        "level_raw": _raw_text(value),
        "datatype": _raw_text(datatype),
        "source": source,
    }


def _observation_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(OBSERVATION_COLUMNS))
    frame["observed_at"] = _utc_column(frame["observed_at"])
    frame["level_m"] = frame["level_m"].astype("float64")
    text_columns = [
        c for c in OBSERVATION_COLUMNS if c not in ("observed_at", "level_m")
    ]
    frame[text_columns] = frame[text_columns].astype("str")
    return frame


def _utc_column(values: pd.Series) -> pd.Series:
    moments = [pd.NaT if v is None else v for v in values]
    return pd.Series(
        pd.to_datetime(moments, utc=True), index=values.index, dtype=_TIME_DTYPE
    )
