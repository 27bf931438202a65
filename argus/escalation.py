"""Escalate alerts that their recipients have not acknowledged.

Steps, each ``after`` later than the one before, counted from the alert's
cycle time, up to ``max_step``:

0. the alert itself on the recipient's usual channels (queued by the cycle);
1. a voice call to each resident who has not acknowledged;
2. the village's ward volunteers (subscribers with role ``volunteer``) on
   every channel they have, while any recipient has not acknowledged.

Only the latest alert of a village still at WARNING or EMERGENCY escalates,
and not after the alert expired. A recipient counts as acknowledged after
replying to this alert or to any alert of the village since it reached its
current level, and an acknowledged recipient is never escalated. With
``needs_ack`` False, a message the provider reports delivered (or read)
counts as enough, too.

Every step goes through :func:`argus.messaging.queue_messages`, whose
idempotency key (alert, recipient, channel) makes a repeated or concurrent
escalation add nothing. Volunteers skip step 1 so that the voice call of
step 2 is new to them. NOTE: because of that key, step 2 reaches a volunteer
only on channels the alert has not used for them yet. A volunteer whose only
channel is SMS gets nothing new at step 2, and a warning is logged.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from argus.messaging import CHANNELS, channels_for, queue_messages
from argus.settings import Settings
from argus.storage.tables import (
    Acknowledgement,
    Alert,
    Outbox,
    Subscriber,
    SubscriberVillage,
    VillageState,
)

logger = logging.getLogger(__name__)

DELIVERED = ("delivered", "read")
ESCALATING_LEVELS = ("WARNING", "EMERGENCY")
ESCALATING_KINDS = ("level_change", "reminder")


@dataclass(frozen=True)
class EscalationPolicy:
    """When the next step is due, the last step, and what stops escalation."""

    after: timedelta = timedelta(minutes=15)
    max_step: int = 2
    needs_ack: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> "EscalationPolicy":
        return cls(
            after=timedelta(seconds=settings.escalation_after_s),
            max_step=settings.escalation_max_step,
            needs_ack=settings.escalation_needs_ack,
        )


@dataclass
class EscalationReport:
    """Counts of one escalation pass: rows queued per step, recipients waiting."""

    alerts_checked: int = 0
    recipients_waiting: int = 0
    queued_by_step: dict[int, int] = field(default_factory=dict)

    @property
    def queued(self) -> int:
        return sum(self.queued_by_step.values())


def escalate(
    session: Session, *, now: datetime, policy: EscalationPolicy
) -> EscalationReport:
    """Queue every escalation step that is due at ``now``.

    The villages are loaded in a few bulk queries, and ``queue_messages`` is
    called only when a step lacks an outbox row, so a pass that finds nothing
    new costs about five queries however many villages are at risk.
    """
    report = EscalationReport()
    for village in _load_villages(session, now=now, policy=policy):
        report.alerts_checked += 1
        waiting = _waiting_recipients(village, policy=policy)
        report.recipients_waiting += len(waiting)
        if not waiting:
            continue

        residents = [s for s in waiting if s.role != "volunteer"]
        if _missing_rows(village, residents, ("voice",)):
            queued = queue_messages(
                session,
                village.alert,
                step=1,
                channels=("voice",),
                subscribers=residents,
            )
            _count(report, 1, queued)
        if village.due_step >= 2:
            _escalate_to_volunteers(session, village, report)
    if report.queued:
        logger.info(
            "escalation at %s: %d messages queued by step %s, %d recipients waiting",
            now.isoformat(),
            report.queued,
            report.queued_by_step,
            report.recipients_waiting,
        )
    return report


@dataclass
class _Village:
    """Data for escalating one village's latest alert, loaded in bulk."""

    state: VillageState
    alert: Alert
    due_step: int
    subscribers: list[Subscriber] = field(default_factory=list)
    # Outbox rows of the alert: (subscriber id, channel) -> (step, delivery status).
    rows: dict[tuple[int, str], tuple[int, str | None]] = field(default_factory=dict)
    acknowledged: set[int] = field(default_factory=set)


def _escalate_to_volunteers(
    session: Session, village: _Village, report: EscalationReport
) -> None:
    volunteers = [s for s in village.subscribers if s.role == "volunteer"]
    alert = village.alert
    if not volunteers:
        _warn_once(
            alert.id,
            "alert %d: village %s has no ward volunteer for step 2",
            alert.village_id,
        )
        return
    if _missing_rows(village, volunteers, CHANNELS):
        queued = queue_messages(
            session, alert, step=2, channels=CHANNELS, subscribers=volunteers
        )
        _count(report, 2, queued)
    elif not any(step == 2 for step, _ in village.rows.values()):
        _warn_once(
            alert.id,
            "alert %d: the volunteers of village %s have no channel left for step 2",
        )


def _missing_rows(
    village: _Village, subscribers: list[Subscriber], channels: tuple[str, ...]
) -> bool:
    return any(
        (subscriber.id, channel) not in village.rows
        for subscriber in subscribers
        for channel in channels_for(subscriber, channels)
    )


# Alerts already warned about in this process, so a warning is not repeated by
# every pass (every minute in Storm Mode).
_WARNED: set[tuple[int, str]] = set()


def _warn_once(alert_id: int, message: str, village_id: str) -> None:
    if (alert_id, message) in _WARNED:
        return
    if len(_WARNED) > 10_000:
        _WARNED.clear()
    _WARNED.add((alert_id, message))
    logger.warning(message, alert_id, village_id)


def _count(report: EscalationReport, step: int, queued: int) -> None:
    if queued:
        report.queued_by_step[step] = report.queued_by_step.get(step, 0) + queued


def _load_villages(
    session: Session, *, now: datetime, policy: EscalationPolicy
) -> list[_Village]:
    """Load the villages at WARNING or above whose latest alert has a step due."""
    states = {
        s.village_id: s
        for s in session.exec(
            select(VillageState).where(VillageState.level.in_(ESCALATING_LEVELS))
        ).all()
    }
    if not states:
        return []
    villages = {}
    for alert in _latest_alerts(session, list(states), now=now):
        if alert.kind not in ESCALATING_KINDS or alert.level not in ESCALATING_LEVELS:
            continue
        if alert.expires_at is not None and alert.expires_at <= now:
            continue
        due_step = min(policy.max_step, int((now - alert.cycle_at) / policy.after))
        if due_step >= 1:
            villages[alert.village_id] = _Village(
                states[alert.village_id], alert, due_step
            )
    if villages:
        _load_recipients(session, villages)
    return list(villages.values())


def _latest_alerts(session: Session, village_ids: list[str], *, now: datetime):
    latest = (
        select(Alert.village_id, sa.func.max(Alert.cycle_at).label("cycle_at"))
        .where(Alert.village_id.in_(village_ids), Alert.cycle_at <= now)
        .group_by(Alert.village_id)
        .subquery()
    )
    return session.exec(
        select(Alert).join(
            latest,
            (Alert.village_id == latest.c.village_id)
            & (Alert.cycle_at == latest.c.cycle_at),
        )
    ).all()


def _load_recipients(session: Session, villages: dict[str, _Village]) -> None:
    """Fill in the subscribers, outbox rows and acknowledgements of each village."""
    by_alert = {village.alert.id: village for village in villages.values()}
    rows = session.exec(
        select(
            Outbox.alert_id,
            Outbox.subscriber_id,
            Outbox.channel,
            Outbox.step,
            Outbox.delivery_status,
        ).where(Outbox.alert_id.in_(list(by_alert)))
    ).all()
    for alert_id, subscriber_id, channel, step, status in rows:
        by_alert[alert_id].rows[(subscriber_id, channel)] = (step, status)

    # The same rule as village_subscribers: consented and not opted out.
    subscribers = session.exec(
        select(SubscriberVillage.village_id, Subscriber)
        .join(Subscriber, SubscriberVillage.subscriber_id == Subscriber.id)
        .where(
            SubscriberVillage.village_id.in_(list(villages)),
            Subscriber.consent.is_(True),
            Subscriber.opted_out.is_(False),
        )
        .order_by(Subscriber.id)
    ).all()
    for village_id, subscriber in subscribers:
        villages[village_id].subscribers.append(subscriber)

    acknowledgements = session.exec(
        select(
            Acknowledgement.subscriber_id, Alert.id, Alert.village_id, Alert.cycle_at
        )
        .join(Alert, Alert.id == Acknowledgement.alert_id)
        .where(Alert.village_id.in_(list(villages)))
    ).all()
    for subscriber_id, alert_id, village_id, cycle_at in acknowledgements:
        village = villages[village_id]
        if alert_id == village.alert.id or cycle_at >= village.state.since:
            village.acknowledged.add(subscriber_id)


def _waiting_recipients(village: _Village, *, policy: EscalationPolicy) -> list:
    """Find the recipients of the alert's first step who have not acknowledged it."""
    first_step = {
        (subscriber_id, status)
        for (subscriber_id, _), (step, status) in village.rows.items()
        if step == 0
    }
    delivered = {sid for sid, status in first_step if status in DELIVERED}
    waiting_ids = {sid for sid, _ in first_step} - village.acknowledged
    if not policy.needs_ack:
        waiting_ids -= delivered
    return [s for s in village.subscribers if s.id in waiting_ids]
