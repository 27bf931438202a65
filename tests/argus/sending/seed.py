"""Alerts and subscribers for the sending tests, written through ARGUS's own code."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from argus.messaging import queue_messages
from argus.storage.db import session_scope
from argus.storage.tables import Alert, Subscriber, SubscriberVillage, Village

CYCLE_AT = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)


def phone(number: int) -> str:
    return f"+9198{number:08d}"


def seed_subscribers(
    engine: sa.Engine,
    *,
    subscribers: int,
    channels: str,
    village_id: str,
    first_phone: int = 0,
) -> None:
    """Store a village and its consenting Assamese-speaking subscribers."""
    with session_scope(engine) as session:
        if session.get(Village, village_id) is None:
            session.add(
                Village(village_id=village_id, name="Dhubri Ghat", lat=26.0, lon=89.9)
            )
        for number in range(first_phone, first_phone + subscribers):
            person = Subscriber(
                phone=phone(number), language="as", channels=channels, consent=True
            )
            session.add(person)
            session.flush()
            session.add(
                SubscriberVillage(subscriber_id=person.id, village_id=village_id)
            )


def seed_alert(
    engine: sa.Engine,
    *,
    subscribers: int,
    channels: str = "sms",
    village_id: str | None = None,
    expires_in: timedelta | None = None,
    first_phone: int = 0,
) -> int:
    """Store a village, its subscribers and an EMERGENCY alert with queued rows.

    The village defaults to one per ``first_phone``. Returns the alert's id.
    """
    village_id = village_id or f"v{first_phone}"
    seed_subscribers(
        engine,
        subscribers=subscribers,
        channels=channels,
        village_id=village_id,
        first_phone=first_phone,
    )
    with session_scope(engine) as session:
        expires_at = datetime.now(UTC) + expires_in if expires_in else None
        alert = Alert(
            village_id=village_id,
            cycle_at=CYCLE_AT + timedelta(minutes=first_phone),
            level="EMERGENCY",
            previous_level="WARNING",
            reasons='["reading 28.9 m >= danger level 28.6 m"]',
            expires_at=expires_at,
        )
        session.add(alert)
        session.flush()
        queue_messages(session, alert)
        return alert.id
