"""The facts a warning states, gathered from an alert, its station and forecasts.

Messages and CAP files state the village, the level, the river and gauge, the
latest reading against the danger level, and when the water is expected to
reach the next threshold. All of it is read from the database as of the alert's
cycle time, so a message composed again later says the same thing.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from argus.storage.tables import Alert, Forecast, Observation, Station, Village

LEVEL_ORDER = ("NORMAL", "WATCH", "WARNING", "EMERGENCY")
# Thresholds from low to high, as (template key, Station column).
THRESHOLDS = (
    ("warning_level", "warning_level_m"),
    ("danger_level", "danger_level_m"),
    ("highest_flood_level", "highest_flood_level_m"),
)
# A forecast reason written by models.village_levels, e.g.
# "p50 forecast reaches danger level 28.6 m in 5 h".
_FORECAST_REASON = re.compile(
    r"^(?P<quantile>p50|p90) forecast reaches (?P<threshold>warning level|danger "
    r"level|highest flood level) (?P<level_m>-?[\d.]+) m in (?P<lead_h>[\d.]+) h$"
)
_OBSERVED_REASON = re.compile(r"^reading -?[\d.]+ m >= ")


@dataclass(frozen=True)
class Expected:
    """A threshold that the forecast reaches, and in how many hours."""

    threshold: str
    threshold_m: float
    lead_h: float


@dataclass(frozen=True)
class AlertFacts:
    """Facts that a message or CAP file of one alert states (None where unknown)."""

    alert_id: int
    kind: str
    level: str
    previous_level: str | None
    cycle_at: datetime
    village_id: str
    village_name: str
    lat: float | None
    lon: float | None
    district: str | None
    station_code: str | None
    river: str | None
    gauge: str | None
    reading_m: float | None
    reading_at: datetime | None
    danger_m: float | None
    expected: Expected | None
    # True when a reading at or above a threshold decided the level, False when
    # only a forecast did.
    observed: bool

    @property
    def lowered(self) -> bool:
        """Whether the level fell compared with the previous alert's level."""
        if self.previous_level not in LEVEL_ORDER or self.level not in LEVEL_ORDER:
            return False
        return LEVEL_ORDER.index(self.level) < LEVEL_ORDER.index(self.previous_level)


def gather_facts(session: Session, alert: Alert) -> AlertFacts:
    """Collect the facts of an alert as of its cycle time."""
    village = session.get(Village, alert.village_id)
    station = session.get(Station, alert.station_code) if alert.station_code else None
    reasons = [str(r) for r in json.loads(alert.reasons or "[]")]
    reading = _latest_reading(session, alert) if station else None
    expected = _expected_from_reasons(reasons)
    if expected is None and station is not None:
        expected = _expected_from_forecasts(session, alert, station, reading)

    river = station.river if station else None
    return AlertFacts(
        alert_id=alert.id,
        kind=alert.kind,
        level=alert.level,
        previous_level=alert.previous_level,
        cycle_at=alert.cycle_at,
        village_id=alert.village_id,
        village_name=village.name if village else alert.village_id,
        lat=village.lat if village else None,
        lon=village.lon if village else None,
        district=village.district if village else None,
        station_code=alert.station_code,
        # CWC writes "-" for a station whose river it does not name.
        river=river if river and river.strip("- ") else None,
        gauge=station.name if station else None,
        reading_m=reading.level_m if reading else None,
        reading_at=reading.observed_at if reading else None,
        danger_m=station.danger_level_m if station else None,
        expected=expected,
        observed=any(_OBSERVED_REASON.match(r) for r in reasons),
    )


def _latest_reading(session: Session, alert: Alert) -> Observation | None:
    """Load the newest accepted reading of the station known at the cycle time."""
    return session.exec(
        select(Observation)
        .where(
            Observation.station_code == alert.station_code,
            Observation.accepted.is_(True),
            Observation.observed_at <= alert.cycle_at,
            Observation.published_at <= alert.cycle_at,
        )
        .order_by(Observation.observed_at.desc(), Observation.revision.desc())
        .limit(1)
    ).first()


def _expected_from_reasons(reasons: list[str]) -> Expected | None:
    """Parse the first (most severe) forecast reason that decided the level."""
    for reason in reasons:
        match = _FORECAST_REASON.match(reason)
        if match:
            return Expected(
                threshold=match["threshold"].replace(" ", "_"),
                threshold_m=float(match["level_m"]),
                lead_h=float(match["lead_h"]),
            )
    return None


def _expected_from_forecasts(
    session: Session, alert: Alert, station: Station, reading: Observation | None
) -> Expected | None:
    """Find the lowest threshold above the reading that the median forecast reaches.

    Used when the reasons name no forecast (a reminder, or a level decided by
    the reading alone). The forecasts issued at the alert's cycle time then
    show whether the next threshold is coming.
    """
    forecasts = session.exec(
        select(Forecast)
        .where(
            Forecast.station_code == station.station_code,
            Forecast.issued_at == alert.cycle_at,
        )
        .order_by(Forecast.lead_time_h)
    ).all()
    current_m = reading.level_m if reading else float("-inf")
    for key, column in THRESHOLDS:
        threshold_m = getattr(station, column)
        if threshold_m is None or threshold_m <= current_m:
            continue
        for forecast in forecasts:
            if forecast.p50_m >= threshold_m:
                return Expected(key, threshold_m, float(forecast.lead_time_h))
        return None
    return None
