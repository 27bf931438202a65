"""The outbox's sending states in the database.

A row moves queued -> sending -> sent, or to expired, cancelled or failed.
Every change out of ``sending`` is a compare-and-set on ``sending_started_at``,
the time the current sender claimed the row, so a sender whose claim was taken
over after its lease ran out changes nothing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from argus.storage.tables import Alert, DeliveryEvent, Outbox, Subscriber

logger = logging.getLogger(__name__)

OUTBOX = Outbox.__table__


@dataclass(frozen=True)
class Scope:
    """Selection of the rows a drain handles: some alerts' rows, one village's, or all."""

    alert_ids: tuple[int, ...] | None = None
    village_id: str | None = None

    def where(self) -> list:
        clauses = []
        if self.alert_ids is not None:
            clauses.append(OUTBOX.c.alert_id.in_(self.alert_ids))
        if self.village_id is not None:
            alerts = sa.select(Alert.id).where(Alert.village_id == self.village_id)
            clauses.append(OUTBOX.c.alert_id.in_(alerts.scalar_subquery()))
        return clauses


@dataclass
class ClaimedRow:
    """A row this sender has marked ``sending``, with the fields needed to send it."""

    outbox_id: int
    subscriber_id: int
    channel: str
    to: str
    body: str
    created_at: datetime
    expires_at: datetime
    claimed_at: datetime


def expiry_clause(now: datetime, validity: timedelta):
    """Rows past their expiry: ``expires_at``, or creation plus the validity."""
    return sa.or_(
        OUTBOX.c.expires_at <= now,
        sa.and_(OUTBOX.c.expires_at.is_(None), OUTBOX.c.created_at <= now - validity),
    )


def valid_clause(now: datetime, validity: timedelta):
    """Rows not yet expired (spelled out, because NOT of a NULL test is NULL)."""
    return sa.or_(
        OUTBOX.c.expires_at > now,
        sa.and_(OUTBOX.c.expires_at.is_(None), OUTBOX.c.created_at > now - validity),
    )


def retire_queued(
    session: Session, scope: Scope, *, now: datetime, validity: timedelta
) -> tuple[int, int]:
    """Expire stale queued rows and cancel those of opted-out subscribers.

    Returns (expired, cancelled).
    """
    expired = session.execute(
        sa.update(OUTBOX)
        .where(
            OUTBOX.c.status == "queued", expiry_clause(now, validity), *scope.where()
        )
        .values(status="expired", error="expired before it was sent")
    ).rowcount
    opted_out = sa.select(Subscriber.id).where(Subscriber.opted_out.is_(True))
    cancelled = session.execute(
        sa.update(OUTBOX)
        .where(
            OUTBOX.c.status == "queued",
            OUTBOX.c.subscriber_id.in_(opted_out.scalar_subquery()),
            *scope.where(),
        )
        .values(status="cancelled", error="the subscriber opted out")
    ).rowcount
    return expired, cancelled


def claim_queued(
    session: Session,
    scope: Scope,
    *,
    now: datetime,
    validity: timedelta,
    limit: int,
    skip: set[int] | None = None,
) -> list[ClaimedRow]:
    """Mark up to ``limit`` queued rows as sending, oldest first; returns them.

    Rows in ``skip`` are left alone (given back unsent earlier in this drain).

    The caller commits before any provider call, so a crash after the call
    leaves the row in ``sending`` for reconciliation, never in ``queued``.
    """
    ids = session.execute(
        sa.select(OUTBOX.c.id)
        .where(
            OUTBOX.c.status == "queued",
            valid_clause(now, validity),
            OUTBOX.c.id.not_in(sorted(skip or ())),
            *scope.where(),
        )
        .order_by(OUTBOX.c.id)
        .limit(limit)
    ).scalars()
    ids = list(ids)
    if not ids:
        return []
    session.execute(
        sa.update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "queued")
        .values(status="sending", sending_started_at=now)
    )
    return _claimed(session, ids, claimed_at=now, validity=validity)


def take_over_stale(
    session: Session,
    scope: Scope,
    *,
    now: datetime,
    lease: timedelta,
    validity: timedelta,
    limit: int,
) -> list[ClaimedRow]:
    """Claim rows left in ``sending`` longer than the lease (a crashed sender's).

    Each must be looked up at the provider before it is sent again.
    """
    stale = list(
        session.execute(
            sa.select(OUTBOX.c.id, OUTBOX.c.sending_started_at)
            .where(
                OUTBOX.c.status == "sending",
                OUTBOX.c.sending_started_at < now - lease,
                *scope.where(),
            )
            .order_by(OUTBOX.c.id)
            .limit(limit)
        ).all()
    )
    taken = []
    for outbox_id, started_at in stale:
        changed = session.execute(
            sa.update(OUTBOX)
            .where(
                OUTBOX.c.id == outbox_id,
                OUTBOX.c.status == "sending",
                OUTBOX.c.sending_started_at == started_at,
            )
            .values(sending_started_at=now)
        ).rowcount
        if changed:
            taken.append(outbox_id)
    return _claimed(session, taken, claimed_at=now, validity=validity)


def _claimed(
    session: Session, ids: list[int], *, claimed_at: datetime, validity: timedelta
) -> list[ClaimedRow]:
    if not ids:
        return []
    rows = session.execute(
        sa.select(
            OUTBOX.c.id,
            OUTBOX.c.subscriber_id,
            OUTBOX.c.channel,
            Subscriber.phone,
            OUTBOX.c.body,
            OUTBOX.c.created_at,
            OUTBOX.c.expires_at,
        )
        .join(Subscriber, Subscriber.id == OUTBOX.c.subscriber_id)
        .where(
            OUTBOX.c.id.in_(ids),
            OUTBOX.c.status == "sending",
            OUTBOX.c.sending_started_at == claimed_at,
        )
        .order_by(OUTBOX.c.id)
    ).all()
    return [
        ClaimedRow(
            outbox_id=row.id,
            subscriber_id=row.subscriber_id,
            channel=row.channel,
            to=row.phone,
            body=row.body,
            created_at=row.created_at,
            expires_at=row.expires_at or row.created_at + validity,
            claimed_at=claimed_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Outcome:
    """Result of sending a claimed row: its new status and the details."""

    outbox_id: int
    claimed_at: datetime
    # sent, failed, expired, queued (released unsent) or sending (unknown).
    status: str
    attempts: int = 0
    provider_sid: str | None = None
    sent_at: datetime | None = None
    error: str | None = None


def record_outcomes(session: Session, outcomes: list[Outcome]) -> int:
    """Write outcomes whose claim still holds; returns the rows changed."""
    if not outcomes:
        return 0
    statement = (
        sa.update(OUTBOX)
        .where(
            OUTBOX.c.id == sa.bindparam("b_id"),
            OUTBOX.c.status == "sending",
            OUTBOX.c.sending_started_at == sa.bindparam("b_claimed_at"),
        )
        .values(
            status=sa.bindparam("b_status"),
            attempts=OUTBOX.c.attempts + sa.bindparam("b_attempts"),
            provider_sid=sa.func.coalesce(
                sa.bindparam("b_sid", type_=sa.String), OUTBOX.c.provider_sid
            ),
            sent_at=sa.bindparam("b_sent_at", type_=OUTBOX.c.sent_at.type),
            error=sa.bindparam("b_error", type_=sa.String),
        )
    )
    changed = session.execute(
        statement,
        [
            {
                "b_id": outcome.outbox_id,
                "b_claimed_at": outcome.claimed_at,
                "b_status": outcome.status,
                "b_attempts": outcome.attempts,
                "b_sid": outcome.provider_sid,
                "b_sent_at": outcome.sent_at,
                "b_error": outcome.error,
            }
            for outcome in outcomes
        ],
    ).rowcount
    sids = [o.provider_sid for o in outcomes if o.status == "sent" and o.provider_sid]
    if sids:
        link_early_delivery_events(session, sids)
    return changed


def link_early_delivery_events(session: Session, sids: list[str]) -> None:
    """Attach status callbacks that arrived before their SID was recorded."""
    for start in range(0, len(sids), 500):
        chunk = sids[start : start + 500]
        events = session.exec(
            select(DeliveryEvent)
            .where(
                DeliveryEvent.provider_sid.in_(chunk),
                DeliveryEvent.outbox_id.is_(None),
            )
            .order_by(DeliveryEvent.id)
        ).all()
        if not events:
            continue
        rows = {
            row.provider_sid: row
            for row in session.exec(
                select(Outbox).where(Outbox.provider_sid.in_(chunk))
            ).all()
        }
        for event in events:
            row = rows.get(event.provider_sid)
            if row is None:
                continue
            event.outbox_id = row.id
            row.delivery_status = event.status
            row.delivery_updated_at = event.received_at


def known_sids(session: Session, subscriber_ids: set[int]) -> set[str]:
    """SIDs already recorded on rows to these subscribers."""
    if not subscriber_ids:
        return set()
    return set(
        session.execute(
            sa.select(OUTBOX.c.provider_sid).where(
                OUTBOX.c.subscriber_id.in_(sorted(subscriber_ids)),
                OUTBOX.c.provider_sid.is_not(None),
            )
        ).scalars()
    )


def list_rows(
    session: Session,
    *,
    status: str | None = None,
    alert_id: int | None = None,
    limit: int = 50,
) -> list[dict]:
    """Newest outbox rows for operators, phone numbers masked."""
    from argus.subscribers import masked_phone

    query = (
        sa.select(
            OUTBOX.c.id,
            OUTBOX.c.alert_id,
            OUTBOX.c.channel,
            OUTBOX.c.status,
            OUTBOX.c.attempts,
            OUTBOX.c.provider_sid,
            OUTBOX.c.delivery_status,
            OUTBOX.c.sent_at,
            OUTBOX.c.error,
            Subscriber.phone,
        )
        .join(Subscriber, Subscriber.id == OUTBOX.c.subscriber_id)
        .order_by(OUTBOX.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(OUTBOX.c.status == status)
    if alert_id is not None:
        query = query.where(OUTBOX.c.alert_id == alert_id)
    rows = []
    for row in session.execute(query).all():
        values = row._asdict()
        values["to"] = masked_phone(values.pop("phone"))
        values["sent_at"] = values["sent_at"].isoformat() if values["sent_at"] else None
        rows.append(values)
    return rows


def count_by_status(session: Session) -> dict[str, int]:
    """Outbox rows per status."""
    return dict(
        session.execute(
            sa.select(OUTBOX.c.status, sa.func.count()).group_by(OUTBOX.c.status)
        ).all()
    )
