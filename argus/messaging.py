"""Queue an alert's messages: one outbox row per subscriber and channel.

Who gets what, in normal operation: at escalation step 0 a subscriber gets the
text channels they chose (SMS, WhatsApp), or a voice call when voice is their
only channel. Later escalation steps and Storm Mode pass ``channels``
explicitly. The outbox row's idempotency key is
``<alert id>:<subscriber id>:<channel>``, so queuing the same alert again adds
nothing.
"""

import json
import logging
from collections.abc import Collection, Sequence
from xml.sax.saxutils import escape

from sqlmodel import Session, select

from argus.storage.tables import Alert, Outbox, Subscriber, SubscriberVillage, Village

logger = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp", "voice")
TEXT_CHANNELS = ("sms", "whatsapp")

_ADVICE = {
    "EMERGENCY": "Move to safe high ground now with family and animals.",
    "WARNING": "Be ready to move; keep documents, food and water at hand.",
    "WATCH": "The river may reach warning level; follow further messages.",
    "NORMAL": "The danger has passed for now.",
}


def idempotency_key(alert_id: int, subscriber_id: int, channel: str) -> str:
    """Key of the one message per alert, recipient and channel."""
    return f"{alert_id}:{subscriber_id}:{channel}"


def village_subscribers(session: Session, village_id: str) -> list[Subscriber]:
    """Subscribers of a village who consented and have not opted out."""
    return list(
        session.exec(
            select(Subscriber)
            .join(SubscriberVillage, SubscriberVillage.subscriber_id == Subscriber.id)
            .where(
                SubscriberVillage.village_id == village_id,
                Subscriber.consent.is_(True),
                Subscriber.opted_out.is_(False),
            )
            .order_by(Subscriber.id)
        ).all()
    )


def channels_for(
    subscriber: Subscriber, channels: Collection[str] | None = None
) -> list[str]:
    """Channels to use for a subscriber: ``channels`` among theirs, or the default."""
    own = [c for c in subscriber.channels.split(";") if c in CHANNELS]
    if channels is not None:
        return [c for c in own if c in channels]
    text = [c for c in own if c in TEXT_CHANNELS]
    return text or own


def compose_body(village_name: str, alert: Alert, language: str, channel: str) -> str:
    """Compose the message of an alert for one language and channel.

    Voice bodies are TwiML. NOTE: only English text exists so far, so every
    language gets the English message.
    """
    reasons = json.loads(alert.reasons or "[]")
    reason = reasons[0] if reasons else "level changed"
    was = f" (was {alert.previous_level})" if alert.previous_level else ""
    text = (
        f"ARGUS flood {alert.level} for {village_name}{was}: {reason}. "
        f"{_ADVICE.get(alert.level, '')}"
    ).strip()
    if channel == "voice":
        return f'<Response><Say language="en-IN">{escape(text)}</Say></Response>'
    return text


def queue_messages(
    session: Session,
    alert: Alert,
    *,
    step: int = 0,
    channels: Collection[str] | None = None,
    subscribers: Sequence[Subscriber] | None = None,
) -> int:
    """Add the outbox rows of an alert that are not there yet; returns rows added.

    ``subscribers`` defaults to the village's consenting subscribers;
    ``channels`` restricts the channels (Storm Mode passes all of them).
    """
    if subscribers is None:
        subscribers = village_subscribers(session, alert.village_id)
    village = session.get(Village, alert.village_id)
    name = village.name if village else alert.village_id
    existing = set(
        session.exec(
            select(Outbox.idempotency_key).where(Outbox.alert_id == alert.id)
        ).all()
    )
    added = 0
    for subscriber in subscribers:
        for channel in channels_for(subscriber, channels):
            key = idempotency_key(alert.id, subscriber.id, channel)
            if key in existing:
                continue
            existing.add(key)
            session.add(
                Outbox(
                    idempotency_key=key,
                    alert_id=alert.id,
                    subscriber_id=subscriber.id,
                    channel=channel,
                    language=subscriber.language,
                    body=compose_body(name, alert, subscriber.language, channel),
                    step=step,
                    expires_at=alert.expires_at,
                )
            )
            added += 1
    session.flush()
    return added
