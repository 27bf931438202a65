"""Queue an alert's messages: one outbox row per subscriber and channel.

Who gets what, in normal operation: at escalation step 0 a subscriber gets the
text channels they chose (SMS, WhatsApp), or a voice call when voice is their
only channel. Later escalation steps and Storm Mode pass ``channels``
explicitly. The outbox row's idempotency key is
``<alert id>:<subscriber id>:<channel>``, so queuing the same alert again adds
nothing.

Bodies come from the language templates of :mod:`argus.templates`, filled with
the alert's facts (:mod:`argus.alert_facts`). SMS rows record their encoding
and segment count (:mod:`argus.sms`); voice bodies are TwiML.
"""

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select
from twilio.twiml.voice_response import VoiceResponse

from argus import sms
from argus.alert_facts import AlertFacts, gather_facts
from argus.errors import ConfigurationError
from argus.settings import load_settings
from argus.storage.tables import Alert, Outbox, Subscriber, SubscriberVillage
from argus.templates import LanguageTemplates, compose_parts, templates_for

logger = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp", "voice")
TEXT_CHANNELS = ("sms", "whatsapp")
# Times a call repeats the warning, so a listener who picks up late hears it whole.
VOICE_REPEATS = 2


@dataclass(frozen=True)
class ComposedMessage:
    """The body of one message and, for SMS, its encoding and segment count."""

    body: str
    encoding: str | None = None
    segments: int | None = None


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


def language_templates(language: str, folder: Path | None = None) -> LanguageTemplates:
    """Texts of a language, or the English ones when its file is unusable.

    A broken translation must not stop a warning: the error is logged with the
    file and the cause, and the subscriber gets the English message.
    """
    try:
        return templates_for(language, folder)
    except ConfigurationError as error:
        if language == "en":
            raise
        logger.error("falling back to English messages: %s", error)
        return templates_for("en", folder)


def compose_message(
    facts: AlertFacts,
    templates: LanguageTemplates,
    channel: str,
    *,
    max_segments: int,
) -> ComposedMessage:
    """Compose one alert's message in one language for one channel.

    SMS and WhatsApp get the same text, cut to ``max_segments`` SMS segments
    by dropping the least important parts. The headline with the village and
    the level always stays. Voice gets every part as TwiML ``<Say>`` in the
    language's voice, repeated so that a late listener hears it whole.
    """
    if channel == "voice":
        spoken = compose_parts(templates, facts, spoken=True).text()
        response = VoiceResponse()
        response.say(
            spoken,
            language=templates.voice_language,
            voice=templates.voice,
            loop=VOICE_REPEATS,
        )
        return ComposedMessage(body=str(response))

    parts = compose_parts(templates, facts)
    text, length = sms.fit_parts(parts.parts, max_segments=max_segments)
    if channel == "sms":
        return ComposedMessage(text, length.encoding, length.segments)
    return ComposedMessage(text)


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
    settings = load_settings()
    facts = gather_facts(session, alert)
    existing = set(
        session.exec(
            select(Outbox.idempotency_key).where(Outbox.alert_id == alert.id)
        ).all()
    )

    # The body depends only on the language and the channel, so each is
    # composed once per alert however many subscribers share it.
    composed: dict[tuple[str, str], ComposedMessage] = {}
    added = 0
    for subscriber in subscribers:
        for channel in channels_for(subscriber, channels):
            key = idempotency_key(alert.id, subscriber.id, channel)
            if key in existing:
                continue
            existing.add(key)
            language = subscriber.language
            if (language, channel) not in composed:
                composed[language, channel] = compose_message(
                    facts,
                    language_templates(language, settings.templates_dir),
                    channel,
                    max_segments=settings.sms_max_segments,
                )
            message = composed[language, channel]
            session.add(
                Outbox(
                    idempotency_key=key,
                    alert_id=alert.id,
                    subscriber_id=subscriber.id,
                    channel=channel,
                    language=language,
                    body=message.body,
                    encoding=message.encoding,
                    segments=message.segments,
                    step=step,
                    expires_at=alert.expires_at,
                )
            )
            added += 1
    session.flush()
    logger.debug(
        "alert %s: %d outbox rows queued at step %d (%d distinct bodies)",
        alert.id,
        added,
        step,
        len(composed),
    )
    return added
