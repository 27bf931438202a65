"""Citizen reports of water: record them, and corroborate them with each other.

A report comes from the SMS reply path ("WATER 40") or from an operator
(``argus report``). It names a village, or gives a position that is matched to
the nearest village within ``citizen_radius_km``. The reporter is stored only as
a keyed hash (HMAC-SHA256) of their phone number or name, so the database never
contains the number in clear, and one person's many reports share one key.

Corroboration counts distinct reporters: reports within ``radius_km`` of each
other and sent within ``window_h`` back from the cycle time corroborate each
other, and one person's reports count once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from argus.errors import InputError
from argus.flood_extent import EARTH_RADIUS_KM
from argus.settings import Settings
from argus.storage.source_tables import CitizenReport
from argus.storage.tables import Village
from models.fallback_levels import FLAG_LEVELS

logger = logging.getLogger(__name__)

SOURCES = ("sms", "api")
MAX_DEPTH_M = 20.0
# A report may be stamped a little after the server's clock (phone clocks).
CLOCK_SLACK = timedelta(minutes=10)
REPORT_COLUMNS = (
    "id",
    "village_id",
    "lat",
    "lon",
    "reported_at",
    "depth_m",
    "flag",
    "reporter_key",
    "source",
)


def reporter_secret(settings: Settings) -> str:
    """Secret that keys reporter hashes: the setting, or one kept in the home folder.

    Without a secret, a hash of a 10-digit phone number could be reversed by
    hashing every number, so an installation draws one random secret once.
    """
    if settings.reporter_secret:
        return settings.reporter_secret
    path = Path(settings.home) / "reporter_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def reporter_key(reporter: str, *, secret: str) -> str:
    """Keyed hash of a reporter's phone number or name (spaces and case ignored)."""
    normal = "".join(reporter.split()).lower()
    if not normal:
        raise InputError("reporter is empty; give a phone number or a name")
    return hmac.new(secret.encode(), normal.encode(), hashlib.sha256).hexdigest()[:32]


def record_citizen_report(
    session: Session,
    *,
    reporter: str,
    reported_at: datetime,
    secret: str,
    village_id: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    depth_m: float | None = None,
    flag: str | None = None,
    source: str = "sms",
    radius_km: float = 2.0,
) -> CitizenReport:
    """Check and store one citizen report.

    Parameters
    ----------
    session
        Open database session; the caller commits.
    reporter
        Phone number or name; only its keyed hash is stored.
    reported_at
        Time the report was sent, timezone-aware.
    secret
        Key of the reporter hash, e.g. :func:`reporter_secret`.
    village_id, lat, lon
        The village, or a position [degrees] matched to the nearest village
        within ``radius_km`` [km].
    depth_m
        Water depth at the village [m], e.g. 0.4 for "WATER 40" (centimetres).
    flag
        Instead of a depth, one of ``FLAG_LEVELS``.
    source
        ``sms`` or ``api``.

    Raises
    ------
    InputError
        Naming the value: an unknown village, a missing place, an invalid
        position, depth, flag, source or time.
    """
    _check_values(reported_at, depth_m=depth_m, flag=flag, source=source)
    village = _place(session, village_id, lat, lon, radius_km=radius_km)
    report = CitizenReport(
        village_id=village.village_id if village else None,
        lat=float(lat) if lat is not None else village.lat,
        lon=float(lon) if lon is not None else village.lon,
        reported_at=reported_at,
        depth_m=depth_m,
        flag=flag,
        reporter_key=reporter_key(reporter, secret=secret),
        source=source,
    )
    session.add(report)
    session.flush()
    logger.info(
        "citizen report %d for village %s via %s: depth %s m, flag %s",
        report.id,
        report.village_id,
        source,
        depth_m,
        flag,
    )
    return report


def _check_values(
    reported_at: datetime, *, depth_m: float | None, flag: str | None, source: str
) -> None:
    if reported_at.tzinfo is None:
        raise InputError(f"report time {reported_at!r} has no time zone")
    if reported_at > datetime.now(UTC) + CLOCK_SLACK:
        raise InputError(f"report time {reported_at.isoformat()!r} is in the future")
    if source not in SOURCES:
        raise InputError(f"report source {source!r} is invalid; expected {SOURCES!r}")
    if (depth_m is None) == (flag is None):
        raise InputError("a report needs either a water depth or a flag, not both")
    if depth_m is not None and not 0 <= depth_m <= MAX_DEPTH_M:
        raise InputError(
            f"water depth {depth_m!r} m is outside 0..{MAX_DEPTH_M:g} m; "
            "give the depth in metres (40 cm is 0.4)"
        )
    if flag is not None and flag not in FLAG_LEVELS:
        raise InputError(
            f"flag {flag!r} is invalid; expected one of {list(FLAG_LEVELS)}"
        )


def _place(
    session: Session,
    village_id: str | None,
    lat: float | None,
    lon: float | None,
    *,
    radius_km: float,
) -> Village | None:
    """Find the report's village: the given one, or the nearest to the position."""
    if village_id is not None:
        village = session.get(Village, village_id)
        if village is None:
            raise InputError(
                f"village {village_id!r} not found in the registry; "
                "check the id with `argus villages show`"
            )
        return village
    if lat is None or lon is None:
        raise InputError("a report needs a village id or a position (lat and lon)")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"position lat={lat!r}, lon={lon!r} is not on Earth")
    villages = session.exec(select(Village)).all()
    if not villages:
        return None
    distances = haversine_km(
        np.array([v.lat for v in villages]),
        np.array([v.lon for v in villages]),
        lat,
        lon,
    )
    nearest = int(np.argmin(distances))
    return villages[nearest] if distances[nearest] <= radius_km else None


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance [km] on the mean Earth sphere; broadcasts."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(x, float)) for x in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def load_reports(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Reports sent in ``(since, until]``, oldest first."""
    query = (
        select(CitizenReport)
        .where(CitizenReport.reported_at > since)
        .where(CitizenReport.reported_at <= until)
        .order_by(CitizenReport.reported_at, CitizenReport.id)
    )
    rows = [r.model_dump() for r in session.exec(query).all()]
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    return frame


def corroborate(reports: pd.DataFrame, *, radius_km: float) -> pd.DataFrame:
    """Add ``reporters_nearby``: distinct reporters within ``radius_km`` of each.

    The count includes the report's own reporter, so 1 means uncorroborated.
    All pairs are compared at once, which suits the few hundred reports of a
    time window.
    """
    reports = reports.copy()
    if reports.empty:
        reports["reporters_nearby"] = pd.Series(dtype="int64")
        return reports
    lat = reports["lat"].to_numpy(float)
    lon = reports["lon"].to_numpy(float)
    near = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    near = near <= radius_km
    codes = pd.factorize(reports["reporter_key"])[0]
    seen = np.zeros((len(reports), codes.max() + 1), dtype=bool)
    rows, cols = np.nonzero(near)
    seen[rows, codes[cols]] = True
    reports["reporters_nearby"] = seen.sum(axis=1)
    return reports
