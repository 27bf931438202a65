"""Subscribers: who is warned about which villages, in which language and how.

``argus subscribers import FILE.csv`` reads the columns phone, name, language
(as, bn, hi, en), channels (``sms;whatsapp;voice``), village_ids (``;``-separated),
role (resident, volunteer, official) and consent (yes/no). A bad row is reported
with its line number and reason; the good rows are stored.
"""

import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from argus.errors import InputError
from argus.storage.tables import Subscriber, SubscriberVillage, Village

logger = logging.getLogger(__name__)

LANGUAGES = frozenset({"as", "bn", "hi", "en"})
CHANNELS = frozenset({"sms", "whatsapp", "voice"})
ROLES = frozenset({"resident", "volunteer", "official"})
REQUIRED_COLUMNS = (
    "phone",
    "name",
    "language",
    "channels",
    "village_ids",
    "role",
    "consent",
)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Separators people type inside a number: spaces, hyphens, dots, brackets.
PHONE_SEPARATORS = re.compile(r"[\s\-.()]")


@dataclass
class SubscriberImport:
    """Outcome of an import: stored rows and the rejected lines with reasons."""

    stored: int = 0
    problems: list[str] = field(default_factory=list)


def masked_phone(phone: str) -> str:
    """Mask a phone number for logs: country code and last two digits only."""
    return f"{phone[:3]}…{phone[-2:]}" if len(phone) > 5 else "…"


def parse_subscriber_row(row: dict[str, str]) -> dict:
    """Validate one CSV row; raises ValueError with the reason."""
    phone = PHONE_SEPARATORS.sub("", row.get("phone") or "")
    if not E164.match(phone):
        raise ValueError(
            f"phone {masked_phone(phone)!r} is not E.164 (expected +<country><number>)"
        )
    language = (row.get("language") or "").strip().lower()
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {sorted(LANGUAGES)}")
    channels = [c.strip().lower() for c in (row.get("channels") or "").split(";")]
    channels = [c for c in channels if c]
    unknown = sorted(set(channels) - CHANNELS)
    if not channels or unknown:
        raise ValueError(f"channels {row.get('channels')!r}: use {sorted(CHANNELS)}")
    villages = [v.strip() for v in (row.get("village_ids") or "").split(";")]
    villages = [v for v in villages if v]
    if not villages:
        raise ValueError("village_ids is empty")
    role = (row.get("role") or "").strip().lower()
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {sorted(ROLES)}")
    consent = (row.get("consent") or "").strip().lower()
    if consent not in {"yes", "no"}:
        raise ValueError(f"consent {consent!r} must be yes or no")
    return {
        "phone": phone,
        "name": (row.get("name") or "").strip(),
        "language": language,
        "channels": ";".join(channels),
        "role": role,
        "consent": consent == "yes",
        "village_ids": villages,
    }


def import_subscribers(session: Session, path: Path) -> SubscriberImport:
    """Store the valid rows of a subscriber CSV, updating known phone numbers.

    Raises
    ------
    InputError
        When the file cannot be read or lacks a required column.
    """
    result = SubscriberImport()
    try:
        # utf-8-sig also reads the byte-order mark that spreadsheet programs write.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [
                c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])
            ]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            known = set(session.exec(select(Village.village_id)).all())
            first_line: dict[str, int] = {}
            for line, row in enumerate(reader, start=2):
                try:
                    values = parse_subscriber_row(row)
                except ValueError as error:
                    result.problems.append(f"{path}:{line}: skipped: {error}")
                    continue
                earlier = first_line.setdefault(values["phone"], line)
                if earlier != line:
                    result.problems.append(
                        f"{path}:{line}: phone {masked_phone(values['phone'])!r} "
                        f"is also on line {earlier}; this row replaces it"
                    )
                unknown = [v for v in values["village_ids"] if v not in known]
                if unknown:
                    result.problems.append(
                        f"{path}:{line}: stored, but village ids not in the "
                        f"registry, so no warnings reach this subscriber for them "
                        f"until they are imported: {', '.join(unknown[:5])}"
                    )
                _store(session, values)
            result.stored = len(first_line)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            f"cannot read subscribers file {str(path)!r}: {error}"
        ) from error
    session.flush()
    logger.info(
        "imported %d subscribers, rejected %d rows", result.stored, len(result.problems)
    )
    return result


def _store(session: Session, values: dict) -> None:
    villages = values.pop("village_ids")
    subscriber = session.exec(
        select(Subscriber).where(Subscriber.phone == values["phone"])
    ).first()
    if subscriber is None:
        subscriber = Subscriber(**values)
        session.add(subscriber)
    else:
        for key, value in values.items():
            setattr(subscriber, key, value)
    session.flush()
    for link in session.exec(
        select(SubscriberVillage).where(
            SubscriberVillage.subscriber_id == subscriber.id
        )
    ).all():
        session.delete(link)
    session.flush()
    for village_id in dict.fromkeys(villages):
        session.add(
            SubscriberVillage(subscriber_id=subscriber.id, village_id=village_id)
        )
