"""Storm Mode: the high-priority lane for the worst hours.

Storm Mode is on while the latest :class:`StormEvent` row is active. Every
change adds a row with its reason and who or what made it (``cycle <time>``
or ``operator <name>``). After each nowcast cycle, :func:`review_storm_mode`
applies these rules to the stored village levels, which are the levels after
the alert hysteresis:

- it turns on when at least ``emergency_villages`` villages are at EMERGENCY;
- it turns off when no village is at WARNING or above and none has been for
  ``calm``, counted from the latest of the change that turned it on and the
  last time a village fell below WARNING.

An operator may force it either way. A forced activation lasts at least
``calm`` like any other. After a forced deactivation a cycle turns it on
again only when more villages are at EMERGENCY than when the operator turned
it off, so an operator's decision is not undone by the very situation they
judged.

While on, the ``storm`` deployment runs every minute (see ``flows/storm.py``);
it exits at once while Storm Mode is off.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from argus.errors import InputError
from argus.messaging import CHANNELS, queue_messages
from argus.settings import Settings
from argus.storage.alerts import level_counts
from argus.storage.tables import Alert, StormEvent, VillageState

logger = logging.getLogger(__name__)

OPERATOR = "operator "


@dataclass(frozen=True)
class StormPolicy:
    """When Storm Mode turns on and off."""

    emergency_villages: int = 3
    calm: timedelta = timedelta(minutes=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> "StormPolicy":
        return cls(
            emergency_villages=settings.storm_emergency_villages,
            calm=timedelta(seconds=settings.storm_calm_s),
        )


def current_event(session: Session) -> StormEvent | None:
    """Return the latest change of Storm Mode, or None if it was never changed."""
    return session.exec(
        select(StormEvent).order_by(StormEvent.changed_at.desc(), StormEvent.id.desc())
    ).first()


def is_active(session: Session) -> bool:
    """Return whether Storm Mode is on now."""
    event = current_event(session)
    return bool(event and event.active)


def review_storm_mode(
    session: Session, *, now: datetime, policy: StormPolicy
) -> StormEvent | None:
    """Turn Storm Mode on or off by the rules above; returns the new row, if any."""
    counts = level_counts(session)
    at_emergency = counts.get("EMERGENCY", 0)
    at_warning = at_emergency + counts.get("WARNING", 0)
    event = current_event(session)
    active = bool(event and event.active)

    if not active and at_emergency >= policy.emergency_villages:
        forced_off = event is not None and event.actor.startswith(OPERATOR)
        if forced_off and at_emergency <= event.villages_at_emergency:
            return None
        reason = (
            f"{at_emergency} villages at EMERGENCY "
            f"(threshold {policy.emergency_villages})"
        )
        return _record(session, True, reason, f"cycle {now.isoformat()}", now, counts)

    if active and at_warning == 0:
        left_warning = _last_left_warning(session)
        calm_since = max(event.changed_at, left_warning or event.changed_at)
        if now - calm_since < policy.calm:
            return None
        reason = (
            f"no village at WARNING or above since {calm_since.isoformat()} "
            f"({policy.calm.total_seconds() / 60:g} min)"
        )
        return _record(session, False, reason, f"cycle {now.isoformat()}", now, counts)
    return None


def set_storm_mode(
    session: Session, *, active: bool, reason: str, operator: str, now: datetime
) -> StormEvent:
    """Record an operator's activation or deactivation of Storm Mode.

    Raises
    ------
    InputError
        When the reason or the operator's name is empty.
    """
    if not reason.strip():
        raise InputError("reason is empty; say why Storm Mode is changed")
    if not operator.strip():
        raise InputError("operator is empty; give the name of who changes it")
    counts = level_counts(session)
    return _record(
        session, active, reason.strip(), OPERATOR + operator.strip(), now, counts
    )


def _record(
    session: Session,
    active: bool,
    reason: str,
    actor: str,
    now: datetime,
    counts: dict[str, int],
) -> StormEvent:
    event = StormEvent(
        changed_at=now,
        active=active,
        reason=reason,
        actor=actor,
        villages_at_emergency=counts.get("EMERGENCY", 0),
    )
    session.add(event)
    session.flush()
    logger.info("Storm Mode %s by %s: %s", "on" if active else "off", actor, reason)
    return event


def _last_left_warning(session: Session) -> datetime | None:
    return session.exec(select(sa.func.max(VillageState.left_warning_at))).first()


def storm_status(session: Session) -> dict:
    """Storm Mode now, as JSON-able fields: active, since, reason, actor."""
    event = current_event(session)
    if event is None:
        return {"active": False, "since": None, "reason": None, "actor": None}
    return {
        "active": event.active,
        "since": event.changed_at.isoformat(),
        "reason": event.reason,
        "actor": event.actor,
    }


def alert_every_channel(session: Session, *, now: datetime) -> int:
    """Add every channel to the latest alert of each village at WARNING or above.

    Returns the outbox rows added, so that an alert queued before Storm Mode
    turned on goes out on the subscribers' other channels too. All-clears and
    alerts that expired before ``now`` are left as they are.
    """
    village_ids = session.exec(
        select(VillageState.village_id).where(
            VillageState.level.in_(("WARNING", "EMERGENCY"))
        )
    ).all()
    added = 0
    for village_id in village_ids:
        alert = session.exec(
            select(Alert)
            .where(Alert.village_id == village_id)
            .order_by(Alert.cycle_at.desc())
        ).first()
        if alert is None or alert.kind == "all_clear":
            continue
        if alert.expires_at is not None and alert.expires_at <= now:
            continue
        added += queue_messages(session, alert, channels=CHANNELS)
    return added
