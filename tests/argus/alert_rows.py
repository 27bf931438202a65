"""Rows of one flooding village for messaging and CAP tests.

The station's thresholds are Dhubri's on the Brahmaputra as CWC publishes them
(danger level 28.62 m, highest flood level 30.36 m).
"""

import json
from datetime import UTC, datetime, timedelta

from argus.storage.tables import (
    Alert,
    Forecast,
    Observation,
    Station,
    Subscriber,
    SubscriberVillage,
    Village,
)

CYCLE_AT = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
VILLAGE_ID = "node/245746325"
STATION = "017-MBDGHY"


def add_village(session, *, forecast_peak_m: float = 29.8) -> None:
    """The village, its gauge, a reading above danger level and a forecast."""
    session.add(
        Village(
            village_id=VILLAGE_ID,
            name="Dhubri Ghat",
            lat=26.0204,
            lon=89.9787,
            district="Dhubri",
            reference_station_code=STATION,
        )
    )
    session.add(
        Station(
            station_code=STATION,
            station_code_raw=STATION,
            name="Dhubri",
            river="Brahmaputra",
            warning_level_m=27.62,
            danger_level_m=28.62,
            highest_flood_level_m=30.36,
        )
    )
    for hours_before, level_m, published in ((1, 28.8, True), (0.5, 28.93, True)):
        observed_at = CYCLE_AT - timedelta(hours=hours_before)
        session.add(
            Observation(
                station_code=STATION,
                observed_at=observed_at,
                level_m=level_m,
                station_code_raw=STATION,
                source="test",
                accepted=published,
                published_at=observed_at,
            )
        )
    # A reading published after the cycle time must not appear in its messages.
    session.add(
        Observation(
            station_code=STATION,
            observed_at=CYCLE_AT - timedelta(minutes=10),
            level_m=31.0,
            station_code_raw=STATION,
            source="test",
            accepted=True,
            published_at=CYCLE_AT + timedelta(hours=1),
        )
    )
    for lead in range(1, 25):
        p50 = 28.93 + (forecast_peak_m - 28.93) * min(lead, 6) / 6
        session.add(
            Forecast(
                station_code=STATION,
                issued_at=CYCLE_AT,
                lead_time_h=lead,
                p10_m=p50 - 0.2,
                p50_m=p50,
                p90_m=p50 + 0.2,
                model="persistence_trend",
            )
        )
    session.flush()


def add_alert(
    session,
    *,
    level: str = "EMERGENCY",
    previous: str | None = "WARNING",
    kind: str = "level_change",
    hours_after: float = 0,
    reasons: list[str] | None = None,
    village_id: str = VILLAGE_ID,
) -> Alert:
    """An alert of the village, ``hours_after`` the base cycle time."""
    cycle_at = CYCLE_AT + timedelta(hours=hours_after)
    if reasons is None:
        reasons = [f"reading 28.93 m >= danger level 28.62 m at {STATION}"]
    alert = Alert(
        village_id=village_id,
        cycle_at=cycle_at,
        level=level,
        previous_level=previous,
        reasons=json.dumps(reasons),
        station_code=STATION,
        kind=kind,
        created_at=cycle_at + timedelta(seconds=42.5),
    )
    session.add(alert)
    session.flush()
    return alert


def add_subscriber(
    session, phone: str, language: str, channels: str = "sms", *, consent=True
) -> Subscriber:
    """A subscriber of the village."""
    subscriber = Subscriber(
        phone=phone, name="", language=language, channels=channels, consent=consent
    )
    session.add(subscriber)
    session.flush()
    session.add(SubscriberVillage(subscriber_id=subscriber.id, village_id=VILLAGE_ID))
    session.flush()
    return subscriber
