"""Replies from subscribers: opt-out, acknowledgement, help and water reports.

The words of each intent, per language, and the responses sent back are data in
``argus/data/reply_words.toml``. A reply is stored as an ``InboundMessage``
whose ``sender_key`` is a keyed hash of the number, never the number itself.
"""

import hashlib
import hmac
import logging
import re
import string
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from argus.errors import ConfigurationError
from argus.reports import record_citizen_report
from argus.storage.tables import (
    Acknowledgement,
    Alert,
    HelpRequest,
    InboundMessage,
    Outbox,
    Subscriber,
    SubscriberVillage,
)
from argus.subscribers import LANGUAGES, masked_phone

logger = logging.getLogger(__name__)

WORDS_FILE = Path(__file__).with_name("data") / "reply_words.toml"
INTENTS = ("stop", "start", "ack", "help", "water_report")
# Reported depths beyond this are taken as a typing error [m].
MAX_WATER_DEPTH_M = 10.0
_PUNCTUATION = string.punctuation + "।॥“”‘’"
_DEPTH = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(cm|m)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyWords:
    """Intent of each known first word, and the responses per intent and language."""

    intents: dict[str, str]
    languages: dict[str, str]
    responses: dict[str, dict[str, str]]


@dataclass(frozen=True)
class ParsedReply:
    """Meaning of a reply: its intent, the language of its word, a water depth."""

    intent: str
    language: str | None = None
    water_depth_m: float | None = None


def load_reply_words(path: Path = WORDS_FILE) -> ReplyWords:
    """Read and check the reply words file.

    Raises
    ------
    ConfigurationError
        When the file is unreadable, names an unknown intent or language, or
        gives one word two intents.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"reply words file {str(path)!r}: {error}") from error
    intents: dict[str, str] = {}
    languages: dict[str, str] = {}
    for intent, by_language in data.get("words", {}).items():
        if intent not in INTENTS:
            raise ConfigurationError(
                f"{path}: intent {intent!r} is unknown; use one of {INTENTS}"
            )
        for language, words in by_language.items():
            _check_language(path, language)
            for word in words:
                key = normalise_word(word)
                if intents.setdefault(key, intent) != intent:
                    raise ConfigurationError(
                        f"{path}: word {word!r} is under both {intents[key]!r} "
                        f"and {intent!r}; give it one intent"
                    )
                languages.setdefault(key, language)
    responses = data.get("responses", {})
    for by_language in responses.values():
        for language in by_language:
            _check_language(path, language)
    return ReplyWords(intents, languages, responses)


def _check_language(path: Path, language: str) -> None:
    if language not in LANGUAGES:
        raise ConfigurationError(
            f"{path}: language {language!r} is unknown; use one of {sorted(LANGUAGES)}"
        )


@cache
def default_reply_words() -> ReplyWords:
    return load_reply_words()


def normalise_word(word: str) -> str:
    """Upper-case, NFC, punctuation stripped, digits of any script as 0-9."""
    word = unicodedata.normalize("NFC", word).strip(_PUNCTUATION + " ").upper()
    return "".join(
        str(unicodedata.digit(c)) if unicodedata.digit(c, None) is not None else c
        for c in word
    )


def parse_reply(text: str, words: ReplyWords | None = None) -> ParsedReply:
    """Find the intent of a reply from its first word (``unknown`` if none)."""
    words = words or default_reply_words()
    parts = normalise_word(text).split(None, 1) if text.strip() else []
    if not parts:
        return ParsedReply("unknown")
    first = parts[0]
    intent = words.intents.get(first)
    if intent is None:
        return ParsedReply("unknown")
    depth = None
    if intent == "water_report" and len(parts) > 1:
        depth = parse_depth_m(parts[1])
    return ParsedReply(intent, words.languages.get(first), depth)


def parse_depth_m(text: str) -> float | None:
    """Depth in metres from "40", "40 cm" or "1.2m"; None when not a depth."""
    match = _DEPTH.match(text.strip().split("\n")[0].strip())
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    depth_m = value if (match.group(2) or "").lower() == "m" else value / 100
    if not 0 <= depth_m <= MAX_WATER_DEPTH_M:
        return None
    return round(depth_m, 3)


def sender_key(phone: str, key: str) -> str:
    """Keyed hash of a phone number: rows link one sender without storing it."""
    return hmac.new(key.encode(), phone.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class InboundResult:
    """A handled reply: the stored row's id, its intent and the response to send."""

    inbound_id: int | None
    intent: str
    response: str


def handle_inbound(
    session: Session,
    *,
    provider_sid: str,
    from_address: str,
    body: str,
    hash_key: str,
    received_at: datetime | None = None,
    words: ReplyWords | None = None,
    report_secret: str | None = None,
) -> InboundResult:
    """Store a reply and act on it: opt out or in, acknowledge, ask for help,
    or store a water report as a citizen report.

    Idempotent on ``provider_sid``: Twilio may deliver a webhook twice.
    ``report_secret`` keys the reporter hash of citizen reports (see
    :func:`argus.reports.reporter_secret`); without it ``hash_key`` does.
    """
    words = words or default_reply_words()
    received_at = received_at or datetime.now(UTC)
    channel = "whatsapp" if from_address.startswith("whatsapp:") else "sms"
    phone = from_address.removeprefix("whatsapp:")
    existing = session.exec(
        select(InboundMessage).where(InboundMessage.provider_sid == provider_sid)
    ).first()
    if existing is not None:
        return InboundResult(existing.id, existing.intent, "")

    subscriber = session.exec(
        select(Subscriber).where(Subscriber.phone == phone)
    ).first()
    reply = parse_reply(body, words)
    language = subscriber.language if subscriber else reply.language
    inbound = InboundMessage(
        provider_sid=provider_sid,
        subscriber_id=subscriber.id if subscriber else None,
        sender_key=sender_key(phone, hash_key),
        channel=channel,
        body=body[:1600],
        intent=reply.intent,
        language=language,
        received_at=received_at,
        water_depth_m=reply.water_depth_m,
    )
    session.add(inbound)
    session.flush()
    response_key = _act(session, reply, subscriber, inbound)
    if response_key == "water_report" and subscriber is not None:
        _store_citizen_report(
            session, reply, subscriber, inbound, phone, report_secret or hash_key
        )
    logger.info("reply %d from %s: %s", inbound.id, masked_phone(phone), reply.intent)
    by_language = words.responses.get(response_key, {})
    response = by_language.get(language or "en", by_language.get("en", ""))
    return InboundResult(inbound.id, reply.intent, response)


def _act(
    session: Session,
    reply: ParsedReply,
    subscriber: Subscriber | None,
    inbound: InboundMessage,
) -> str:
    """Apply a reply's intent; returns the key of the response to send."""
    if subscriber is None:
        # NOTE: a number ARGUS does not know gets no response, so ARGUS cannot
        # be used to send texts to arbitrary numbers.
        return "unknown"
    if reply.intent == "stop":
        _opt_out(session, subscriber, inbound.received_at)
    elif reply.intent == "start":
        subscriber.opted_out = False
        subscriber.opted_out_at = None
    elif reply.intent == "ack":
        _acknowledge(session, subscriber, inbound)
    elif reply.intent == "help":
        session.add(
            HelpRequest(
                subscriber_id=subscriber.id,
                village_id=_latest_village(session, subscriber),
                inbound_id=inbound.id,
                body=inbound.body,
                received_at=inbound.received_at,
            )
        )
    elif reply.intent == "water_report":
        return _water_report(reply)
    return reply.intent


def _water_report(reply: ParsedReply) -> str:
    if reply.water_depth_m is None:
        return "water_report_no_depth"
    return "water_report"


def _store_citizen_report(
    session: Session,
    reply: ParsedReply,
    subscriber: Subscriber,
    inbound: InboundMessage,
    phone: str,
    secret: str,
) -> None:
    """Store a subscriber's water depth as a citizen report of their latest village."""
    village_id = _latest_village(session, subscriber)
    if village_id is None:
        logger.warning(
            "water report %d from %s names no village: kept on the reply only",
            inbound.id,
            masked_phone(phone),
        )
        return
    record_citizen_report(
        session,
        reporter=phone,
        reported_at=inbound.received_at,
        secret=secret,
        village_id=village_id,
        depth_m=reply.water_depth_m,
        source="sms",
    )


def _opt_out(session: Session, subscriber: Subscriber, at: datetime) -> None:
    subscriber.opted_out = True
    subscriber.opted_out_at = at
    session.execute(
        sa.update(Outbox)
        .where(Outbox.subscriber_id == subscriber.id, Outbox.status == "queued")
        .values(status="cancelled", error="the subscriber opted out")
    )


def _latest_alert(session: Session, subscriber: Subscriber) -> Alert | None:
    """Return the newest alert this subscriber was messaged about."""
    return session.exec(
        select(Alert)
        .join(Outbox, Outbox.alert_id == Alert.id)
        .where(Outbox.subscriber_id == subscriber.id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(1)
    ).first()


def _acknowledge(
    session: Session, subscriber: Subscriber, inbound: InboundMessage
) -> None:
    alert = _latest_alert(session, subscriber)
    if alert is None:
        logger.info("reply %d acknowledges no alert (none sent)", inbound.id)
        return
    known = session.exec(
        select(Acknowledgement).where(
            Acknowledgement.subscriber_id == subscriber.id,
            Acknowledgement.alert_id == alert.id,
        )
    ).first()
    if known is None:
        session.add(
            Acknowledgement(
                subscriber_id=subscriber.id,
                alert_id=alert.id,
                inbound_id=inbound.id,
                acknowledged_at=inbound.received_at,
            )
        )


def _latest_village(session: Session, subscriber: Subscriber) -> str | None:
    alert = _latest_alert(session, subscriber)
    if alert is not None:
        return alert.village_id
    return session.exec(
        select(SubscriberVillage.village_id)
        .where(SubscriberVillage.subscriber_id == subscriber.id)
        .order_by(SubscriberVillage.village_id)
    ).first()
