"""Delivery states from Twilio's status callbacks, per outbox row.

Callbacks may arrive twice, out of order, or before the sender has recorded
the message's SID. Each distinct (SID, status) is stored once as a
``DeliveryEvent``; the row's ``delivery_status`` only moves forward, and an
event for an SID not yet recorded is linked when the sender records it.
"""

import logging
from datetime import UTC, datetime

from sqlmodel import Session, select

from argus.storage.tables import DeliveryEvent, Outbox

logger = logging.getLogger(__name__)

# Order of the states of a message and of a call; a later state never gives
# way to an earlier one that arrives late. Unknown states rank 0.
RANK = {
    "queued": 0,
    "accepted": 0,
    "scheduled": 0,
    "sending": 1,
    "initiated": 1,
    "sent": 2,
    "ringing": 2,
    "in-progress": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "partially_delivered": 4,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "read": 5,
}


def record_delivery(
    session: Session,
    *,
    provider_sid: str,
    status: str,
    error_code: str | None = None,
    received_at: datetime | None = None,
) -> DeliveryEvent | None:
    """Store one status callback; returns None when it was already stored."""
    received_at = received_at or datetime.now(UTC)
    status = status.strip().lower()
    seen = session.exec(
        select(DeliveryEvent).where(
            DeliveryEvent.provider_sid == provider_sid, DeliveryEvent.status == status
        )
    ).first()
    if seen is not None:
        return None
    row = session.exec(
        select(Outbox).where(Outbox.provider_sid == provider_sid)
    ).first()
    event = DeliveryEvent(
        outbox_id=row.id if row else None,
        provider_sid=provider_sid,
        status=status,
        error_code=error_code or None,
        received_at=received_at,
    )
    session.add(event)
    if row is None:
        logger.info(
            "status %s for %s before its SID was recorded", status, provider_sid
        )
    elif RANK.get(status, 0) >= RANK.get(row.delivery_status or "", -1):
        row.delivery_status = status
        row.delivery_updated_at = received_at
    session.flush()
    return event
