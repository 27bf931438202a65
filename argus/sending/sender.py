"""Drain the outbox: send queued rows concurrently, exactly once per row.

Order of one drain:

1. expire queued rows past their validity, cancel those of opted-out subscribers;
2. take over rows left in ``sending`` past the lease (a crashed sender's) and
   look each up at the provider: found means sent, not found means send now;
3. claim queued rows in batches (committed as ``sending`` before any call) and
   send them, many requests in flight, at most the configured rate per sender.

A 429 is retried after a backoff with jitter. A 5xx, a timeout or a lost
connection may have been accepted, so the row is looked up at the provider
before the next attempt. Outcomes are written in batches.
"""

import asyncio
import logging
import random
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from argus.sending import outbox
from argus.sending.outbox import ClaimedRow, Outcome, Scope
from argus.sending.providers import (
    OutcomeUnknown,
    OutgoingMessage,
    PermanentRejection,
    Provider,
    RetryableRejection,
    SendError,
    open_provider,
)
from argus.settings import Settings
from argus.storage.db import session_scope

logger = logging.getLogger(__name__)

MAX_CLAIM = 500
# Outcomes waiting to be written are written this often [s].
FLUSH_EVERY_S = 0.25


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SendReport:
    """Counts of one drain of the outbox."""

    provider: str
    sent: int = 0
    # Of ``sent``: found already accepted by the provider, so not sent again.
    found_at_provider: int = 0
    expired: int = 0
    cancelled: int = 0
    failed: int = 0
    # Unknown outcome at the end of the drain: reconciled by a later drain.
    left_sending: int = 0
    # Given back to ``queued`` unsent (rate-limited past the lease, or only 429s).
    requeued: int = 0
    requests: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class RateLimiter:
    """Spaces requests of one sender address ``1 / rate`` seconds apart."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class _Drain:
    """State of one drain: provider, limits, pending outcomes and the report."""

    def __init__(
        self, engine: sa.Engine, settings: Settings, provider: Provider, scope: Scope
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.provider = provider
        self.scope = scope
        self.report = SendReport(provider=provider.name)
        self.validity = timedelta(seconds=settings.twilio_validity_period_s)
        self.lease = timedelta(seconds=settings.outbox_lease_s)
        self.in_flight = asyncio.Semaphore(settings.twilio_concurrency)
        self.limiters: dict[str, RateLimiter] = {}
        self.pending: list[Outcome] = []
        self.known_sids: set[str] = set()
        # Rows given back unsent in this drain; not claimed again until the next.
        self.released: set[int] = set()

    def limiter(self, channel: str) -> RateLimiter:
        address = self.provider.sender_address(channel)
        if address not in self.limiters:
            rate = (
                self.settings.twilio_calls_per_s
                if channel == "voice"
                else self.settings.twilio_messages_per_s
            )
            self.limiters[address] = RateLimiter(rate)
        return self.limiters[address]

    def claim_size(self) -> int:
        # Claimed rows wait for their rate slot; keep that wait well inside the
        # lease. A voice row still waiting near its lease end (calls are
        # slower) is given back unsent and claimed again.
        rate = self.settings.twilio_messages_per_s
        return max(1, min(MAX_CLAIM, int(rate * self.settings.outbox_lease_s / 4)))

    def done(self, outcome: Outcome, kind: str | None = None) -> None:
        self.pending.append(outcome)
        if outcome.status == "queued":
            self.released.add(outcome.outbox_id)
        report = self.report
        if outcome.status == "sent":
            report.sent += 1
            if kind == "found":
                report.found_at_provider += 1
        elif outcome.status == "failed":
            report.failed += 1
        elif outcome.status == "expired":
            report.expired += 1
        elif outcome.status == "queued":
            report.requeued += 1
        else:
            report.left_sending += 1
        if outcome.error:
            key = outcome.error.split(";")[0]
            report.errors[key] = report.errors.get(key, 0) + 1

    async def flush(self) -> None:
        if not self.pending:
            return
        outcomes, self.pending = self.pending, []
        await asyncio.to_thread(self._write, outcomes)

    def _write(self, outcomes: list[Outcome]) -> None:
        with session_scope(self.engine) as session:
            outbox.record_outcomes(session, outcomes)

    async def flush_periodically(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), FLUSH_EVERY_S)
            except TimeoutError:
                pass
            await self.flush()

    def backoff_s(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (1, 2, ...): half fixed, half jitter."""
        ceiling = min(
            self.settings.twilio_backoff_max_s,
            self.settings.twilio_backoff_s * 2 ** (attempt - 1),
        )
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def message(self, row: ClaimedRow, now: datetime) -> OutgoingMessage:
        validity = None
        if row.channel != "voice":
            left = int((row.expires_at - now).total_seconds())
            validity = max(1, min(self.settings.twilio_validity_period_s, left))
        return OutgoingMessage(row.outbox_id, row.channel, row.to, row.body, validity)

    async def deliver(self, row: ClaimedRow, *, maybe_sent: bool) -> None:
        """Send one claimed row; ``maybe_sent`` means look it up first."""
        async with self.in_flight:
            outcome, kind = await self._deliver(row, maybe_sent=maybe_sent)
        self.done(outcome, kind)

    async def _deliver(
        self, row: ClaimedRow, *, maybe_sent: bool
    ) -> tuple[Outcome, str | None]:
        settings = self.settings
        attempts = 0
        last_error = None
        # No request may start after this: the claim would then look stale.
        deadline = (
            row.claimed_at + self.lease - timedelta(seconds=settings.twilio_timeout_s)
        )

        def outcome(status: str, **values) -> Outcome:
            return Outcome(
                row.outbox_id, row.claimed_at, status, attempts=attempts, **values
            )

        for attempt in range(settings.twilio_attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s(attempt))
            now = utc_now()
            if now >= deadline:
                status = "sending" if maybe_sent else "queued"
                return outcome(status, error=last_error or "lease ran out"), None
            message = self.message(row, now)
            if maybe_sent:
                # NOTE: a create that Twilio processes only after this lookup
                # (later than the timeout and the backoff) is sent twice.
                try:
                    sid = await self.provider.find_accepted(
                        message, since=row.created_at, known_sids=self.known_sids
                    )
                except SendError as error:
                    last_error = f"lookup failed; {error.reason}"
                    continue
                if sid is not None:
                    self.known_sids.add(sid)
                    sent = outcome("sent", provider_sid=sid, sent_at=now)
                    return sent, "found"
                maybe_sent = False
            if now >= row.expires_at:
                return outcome("expired", error="expired before it was sent"), None
            try:
                if self.provider.name != "console":
                    await self.limiter(row.channel).acquire()
                self.report.requests += 1
                attempts += 1
                sid = await self.provider.send(message)
            except RetryableRejection as error:
                last_error = f"rate limited; {error.reason}"
                continue
            except OutcomeUnknown as error:
                last_error = f"outcome unknown; {error.reason}"
                maybe_sent = True
                continue
            except PermanentRejection as error:
                return outcome("failed", error=f"rejected; {error.reason}"), None
            self.known_sids.add(sid)
            return outcome("sent", provider_sid=sid, sent_at=utc_now()), None

        logger.warning(
            "outbox row %d not confirmed after %d attempts: %s",
            row.outbox_id,
            settings.twilio_attempts,
            last_error,
        )
        status = "sending" if maybe_sent else "queued"
        return outcome(status, error=last_error), None


async def send_outbox(
    engine: sa.Engine,
    settings: Settings,
    *,
    alert_ids: list[int] | None = None,
    village_id: str | None = None,
    limit: int | None = None,
    provider: Provider | None = None,
) -> SendReport:
    """Send the queued rows of the outbox (all, some alerts', or a village's).

    Parameters
    ----------
    alert_ids, village_id
        Restrict the drain to these alerts' rows, or to one village's alerts.
    limit
        Claim at most this many queued rows (rows of a crashed sender are
        always reconciled).
    provider
        The channel provider; by default Twilio when credentials are set,
        else the console channel.
    """
    started = time.perf_counter()
    scope = Scope(
        alert_ids=tuple(alert_ids) if alert_ids is not None else None,
        village_id=village_id,
    )
    own_provider = provider is None
    provider = provider or open_provider(settings)
    drain = _Drain(engine, settings, provider, scope)
    try:
        await _run(drain, limit)
    finally:
        if own_provider:
            await provider.close()
    drain.report.seconds = round(time.perf_counter() - started, 3)
    logger.info("outbox drain: %s", drain.report.as_dict())
    return drain.report


async def _run(drain: _Drain, limit: int | None) -> None:
    now = utc_now()
    expired, cancelled = await asyncio.to_thread(_retire, drain, now)
    drain.report.expired += expired
    drain.report.cancelled += cancelled

    stop = asyncio.Event()
    flusher = asyncio.create_task(drain.flush_periodically(stop))
    try:
        await _reconcile_stale(drain)
        await _send_queued(drain, limit)
    finally:
        stop.set()
        await flusher
        await drain.flush()


def _retire(drain: _Drain, now: datetime) -> tuple[int, int]:
    with session_scope(drain.engine) as session:
        return outbox.retire_queued(
            session, drain.scope, now=now, validity=drain.validity
        )


async def _reconcile_stale(drain: _Drain) -> None:
    """Look up a crashed sender's rows at the provider, one recipient at a time."""
    while True:
        rows = await asyncio.to_thread(_take_over, drain)
        if not rows:
            return
        logger.warning(
            "reconciling %d outbox rows left sending by a stopped sender", len(rows)
        )
        by_recipient: dict[tuple[str, str], list[ClaimedRow]] = defaultdict(list)
        for row in rows:
            by_recipient[(row.channel, row.to)].append(row)

        async def one_recipient(group: list[ClaimedRow]) -> None:
            for row in group:
                await drain.deliver(row, maybe_sent=True)

        await asyncio.gather(*(one_recipient(g) for g in by_recipient.values()))
        await drain.flush()


def _take_over(drain: _Drain) -> list[ClaimedRow]:
    with session_scope(drain.engine) as session:
        rows = outbox.take_over_stale(
            session,
            drain.scope,
            now=utc_now(),
            lease=drain.lease,
            validity=drain.validity,
            limit=MAX_CLAIM,
        )
        drain.known_sids |= outbox.known_sids(session, {r.subscriber_id for r in rows})
    return rows


async def _send_queued(drain: _Drain, limit: int | None) -> None:
    """Claim batches while earlier ones are in flight, until none is left."""
    claimed = 0
    size = drain.claim_size()
    tasks: set[asyncio.Task] = set()
    exhausted = False
    while not exhausted or tasks:
        while not exhausted and len(tasks) < size:
            want = size if limit is None else min(size, limit - claimed)
            rows = await asyncio.to_thread(_claim, drain, max(want, 0)) if want else []
            if not rows:
                exhausted = True
                break
            claimed += len(rows)
            for row in rows:
                tasks.add(asyncio.create_task(drain.deliver(row, maybe_sent=False)))
        if tasks:
            done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()


def _claim(drain: _Drain, size: int) -> list[ClaimedRow]:
    with session_scope(drain.engine) as session:
        return outbox.claim_queued(
            session,
            drain.scope,
            now=utc_now(),
            validity=drain.validity,
            limit=size,
            skip=drain.released,
        )


def send_outbox_sync(engine: sa.Engine, settings: Settings, **options) -> SendReport:
    """:func:`send_outbox` for callers without an event loop (CLI, notebooks)."""
    return asyncio.run(send_outbox(engine, settings, **options))
