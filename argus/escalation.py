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

from sqlmodel import Session, select

from argus.messaging import CHANNELS, queue_messages, village_subscribers
from argus.settings import Settings
from argus.storage.tables import Acknowledgement, Alert, Outbox, VillageState

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
    """Queue every escalation step that is due at ``now``."""
    report = EscalationReport()
    for state, alert in _escalating_alerts(session, now=now):
        due_step = min(policy.max_step, int((now - alert.cycle_at) / policy.after))
        if due_step < 1:
            continue
        report.alerts_checked += 1
        waiting = _waiting_recipients(session, alert, state, policy=policy)
        report.recipients_waiting += len(waiting)
        if not waiting:
            continue
        residents = [s for s in waiting if s.role != "volunteer"]
        queued = queue_messages(
            session, alert, step=1, channels=("voice",), subscribers=residents
        )
        _count(report, 1, queued)
        if due_step >= 2:
            volunteers = [
                s
                for s in village_subscribers(session, alert.village_id)
                if s.role == "volunteer"
            ]
            if not volunteers:
                logger.warning(
                    "alert %d: village %s has no ward volunteer for step 2",
                    alert.id,
                    alert.village_id,
                )
            queued = queue_messages(
                session, alert, step=2, channels=CHANNELS, subscribers=volunteers
            )
            _count(report, 2, queued)
            if volunteers and not queued and not _volunteer_step_done(session, alert):
                logger.warning(
                    "alert %d: the volunteers of village %s have no channel left "
                    "for step 2",
                    alert.id,
                    alert.village_id,
                )
    if report.queued:
        logger.info(
            "escalation at %s: %d messages queued by step %s, %d recipients waiting",
            now.isoformat(),
            report.queued,
            report.queued_by_step,
            report.recipients_waiting,
        )
    return report


def _volunteer_step_done(session: Session, alert: Alert) -> bool:
    return (
        session.exec(
            select(Outbox.id).where(Outbox.alert_id == alert.id, Outbox.step == 2)
        ).first()
        is not None
    )


def _count(report: EscalationReport, step: int, queued: int) -> None:
    if queued:
        report.queued_by_step[step] = report.queued_by_step.get(step, 0) + queued


def _escalating_alerts(
    session: Session, *, now: datetime
) -> list[tuple[VillageState, Alert]]:
    """Find the latest alert of each village at WARNING or above that may escalate."""
    states = session.exec(
        select(VillageState).where(VillageState.level.in_(ESCALATING_LEVELS))
    ).all()
    found = []
    for state in states:
        alert = session.exec(
            select(Alert)
            .where(Alert.village_id == state.village_id)
            .order_by(Alert.cycle_at.desc())
        ).first()
        if alert is None or alert.kind not in ESCALATING_KINDS:
            continue
        if alert.level not in ESCALATING_LEVELS or alert.cycle_at > now:
            continue
        if alert.expires_at is not None and alert.expires_at <= now:
            continue
        found.append((state, alert))
    return found


def _waiting_recipients(
    session: Session, alert: Alert, state: VillageState, *, policy: EscalationPolicy
) -> list:
    """Find the recipients of the alert's first step who have not acknowledged it."""
    rows = session.exec(
        select(Outbox).where(Outbox.alert_id == alert.id, Outbox.step == 0)
    ).all()
    if not rows:
        return []
    acknowledged = set(
        session.exec(
            select(Acknowledgement.subscriber_id)
            .join(Alert, Alert.id == Acknowledgement.alert_id)
            .where(
                Alert.village_id == alert.village_id,
                (Alert.id == alert.id) | (Alert.cycle_at >= state.since),
            )
        ).all()
    )
    delivered = {r.subscriber_id for r in rows if r.delivery_status in DELIVERED}
    waiting_ids = {r.subscriber_id for r in rows} - acknowledged
    if not policy.needs_ack:
        waiting_ids -= delivered
    current = {s.id: s for s in village_subscribers(session, alert.village_id)}
    return [current[i] for i in sorted(waiting_ids) if i in current]
