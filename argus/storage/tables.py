"""SQLModel tables of ARGUS. Schema changes go through Alembic migrations."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from argus.storage.types import UTCDateTime


def utc_now() -> datetime:
    return datetime.now(UTC)


def _time(*, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Station(SQLModel, table=True):
    """A CWC gauge with the thresholds that may be used (rejected ones are NULL)."""

    station_code: str = Field(primary_key=True)
    station_code_raw: str
    name: str | None = None
    river: str | None = None
    lat: float | None = None
    lon: float | None = None
    district: str | None = None
    revenue_circle: str | None = None
    warning_level_m: float | None = None
    danger_level_m: float | None = None
    highest_flood_level_m: float | None = None
    warning_level_reported_m: float | None = None
    danger_level_reported_m: float | None = None
    highest_flood_level_reported_m: float | None = None
    threshold_status: str = "ok"
    threshold_note: str = ""
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_time())


class Observation(SQLModel, table=True):
    """One published revision of a river level.

    ``published_at`` is the cycle time at which ARGUS first saw this value. A
    cycle as of time T uses only revisions published at or before T, the latest
    published one winning, so a replay never sees what was published later.
    """

    __table_args__ = (sa.UniqueConstraint("station_code", "observed_at", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    station_code: str = Field(index=True)
    observed_at: datetime = Field(sa_column=_time(index=True))
    revision: int = 1
    level_m: float
    station_code_raw: str
    datatype: str = "HHS"
    source: str
    accepted: bool
    rule: str | None = None
    cycle_id: int | None = Field(default=None, index=True)
    ingested_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    published_at: datetime = Field(sa_column=_time())


class Quarantine(SQLModel, table=True):
    """A candidate row that failed a data contract, with the expectation that failed."""

    id: int | None = Field(default=None, primary_key=True)
    row_key: str = Field(unique=True)
    cycle_id: int | None = Field(default=None, index=True)
    station_code: str
    station_code_raw: str
    observed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    observed_at_raw: str
    level_m: float | None = None
    value_raw: str
    datatype: str
    rule: str = Field(index=True)
    rules: str
    source: str
    created_at: datetime = Field(default_factory=utc_now, sa_column=_time(index=True))


class OfficialForecast(SQLModel, table=True):
    """A level forecast published by CWC (kept for skill comparison)."""

    __table_args__ = (sa.UniqueConstraint("station_code", "issued_at", "forecast_for"),)

    id: int | None = Field(default=None, primary_key=True)
    station_code: str = Field(index=True)
    issued_at: datetime = Field(sa_column=_time())
    forecast_for: datetime = Field(sa_column=_time())
    level_m: float
    trend: str | None = None


class Village(SQLModel, table=True):
    """A settlement to warn, with the gauge whose readings decide its level."""

    village_id: str = Field(primary_key=True)
    name: str
    lat: float
    lon: float
    district: str | None = None
    revenue_circle: str | None = None
    place_kind: str | None = None
    source: str = ""
    reference_station_code: str | None = Field(default=None, index=True)
    reference_distance_km: float | None = None
    reference_rule: str | None = None


class Forecast(SQLModel, table=True):
    """A gauge level forecast issued by ARGUS for one lead time."""

    __table_args__ = (
        sa.UniqueConstraint("station_code", "issued_at", "lead_time_h", "model"),
    )

    id: int | None = Field(default=None, primary_key=True)
    station_code: str = Field(index=True)
    issued_at: datetime = Field(sa_column=_time(index=True))
    lead_time_h: int
    p10_m: float
    p50_m: float
    p90_m: float
    model: str


class VillageState(SQLModel, table=True):
    """The current level of a village; a change of level raises an alert.

    The hysteresis columns are explained in :mod:`argus.alert_rules`.
    """

    village_id: str = Field(primary_key=True)
    level: str
    since: datetime = Field(sa_column=_time())
    cycle_at: datetime = Field(sa_column=_time())
    station_code: str | None = None
    reasons: str = "[]"
    # The level last announced to the village's subscribers; NULL means ``level``.
    announced_level: str | None = None
    # The highest lower level seen while a downgrade waits, and for how many cycles.
    pending_level: str | None = None
    pending_cycles: int = 0
    # The latest downgrade: when, and from which level (for the upgrade cooldown).
    downgraded_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    downgraded_from: str | None = None
    # When the level last went from WARNING or above to below WARNING.
    left_warning_at: datetime | None = Field(
        default=None, sa_column=_time(nullable=True)
    )


class Alert(SQLModel, table=True):
    """A change of a village's level, decided by one cycle."""

    __table_args__ = (sa.UniqueConstraint("village_id", "cycle_at"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: str = Field(index=True)
    cycle_at: datetime = Field(sa_column=_time(index=True))
    level: str
    previous_level: str | None = None
    reasons: str = "[]"
    station_code: str | None = None
    flow_run_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    # level_change, reminder (still at EMERGENCY) or all_clear (fell back).
    kind: str = "level_change"
    # Messages of this alert are not delivered after this time (stale warning).
    expires_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class Subscriber(SQLModel, table=True):
    """A person who receives warnings; the phone number is personal data."""

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(unique=True)
    name: str = ""
    language: str = "en"
    channels: str = "sms"
    role: str = "resident"
    consent: bool = False
    opted_out: bool = False
    # When the subscriber replied STOP (or its local form); NULL while subscribed.
    opted_out_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class SubscriberVillage(SQLModel, table=True):
    """Link from a subscriber to a village they are warned about."""

    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True)
    village_id: str = Field(primary_key=True, index=True)


class Outbox(SQLModel, table=True):
    """One message to one recipient on one channel, and its sending state.

    The idempotency key is ``<alert id>:<subscriber id>:<channel>``, so a
    retried or restarted run finds the row instead of adding a second one.
    ``status`` moves queued -> sending -> sent, or to expired, cancelled or
    failed. A row is marked sending (with ``sending_started_at``) before the
    provider is called, so a crash leaves it for reconciliation with the
    provider instead of a blind resend. ``delivery_status`` is the provider's
    latest delivery state from its status callbacks.
    """

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    channel: str
    language: str
    body: str
    status: str = Field(default="queued", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    # Escalation step: 0 the first message, then voice, then the ward volunteer.
    step: int = 0
    # SMS encoding (GSM-7 or UCS-2) and segment count of ``body``.
    encoding: str | None = None
    segments: int | None = None
    attempts: int = 0
    provider_sid: str | None = Field(default=None, index=True)
    sending_started_at: datetime | None = Field(
        default=None, sa_column=_time(nullable=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    delivery_status: str | None = None
    delivery_updated_at: datetime | None = Field(
        default=None, sa_column=_time(nullable=True)
    )
    # Last error of the provider or of validation; never contains a phone number.
    error: str | None = None


class Cycle(SQLModel, table=True):
    """One nowcast cycle and its summary (JSON)."""

    id: int | None = Field(default=None, primary_key=True)
    cycle_at: datetime = Field(sa_column=_time(index=True))
    mode: str
    started_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    finished_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    status: str = "running"
    summary: str = "{}"


# Messaging: delivery receipts, replies, acknowledgements, help requests, Storm Mode.


class DeliveryEvent(SQLModel, table=True):
    """One status callback of the messaging provider for a sent message."""

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    provider_sid: str = Field(index=True)
    status: str
    error_code: str | None = None
    received_at: datetime = Field(default_factory=utc_now, sa_column=_time())


class InboundMessage(SQLModel, table=True):
    """A reply received from a phone; ``sender_key`` is a hash, never the number."""

    id: int | None = Field(default=None, primary_key=True)
    provider_sid: str = Field(unique=True)
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id")
    sender_key: str = Field(index=True)
    channel: str = "sms"
    body: str
    # stop, start, ack, help, water_report or unknown.
    intent: str
    language: str | None = None
    received_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    # Depth of water the sender reported (intent water_report) [m].
    water_depth_m: float | None = None


class Acknowledgement(SQLModel, table=True):
    """A subscriber's reply that they are safe, for an alert of their village."""

    __table_args__ = (sa.UniqueConstraint("subscriber_id", "alert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inboundmessage.id")
    acknowledged_at: datetime = Field(sa_column=_time())


class HelpRequest(SQLModel, table=True):
    """A subscriber asked for help; open until an operator closes it."""

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    village_id: str | None = None
    inbound_id: int | None = Field(default=None, foreign_key="inboundmessage.id")
    body: str
    status: str = Field(default="open", index=True)
    received_at: datetime = Field(sa_column=_time())
    closed_by: str | None = None
    closed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class StormEvent(SQLModel, table=True):
    """A change of Storm Mode; the latest row is the current state."""

    id: int | None = Field(default=None, primary_key=True)
    changed_at: datetime = Field(sa_column=_time(index=True))
    active: bool
    reason: str
    # Actor of the change: "cycle <time>" or "operator <name>".
    actor: str
    villages_at_emergency: int = 0


# Camera staff-gauge readings.


class CameraReading(SQLModel, table=True):
    """The outcome of one camera frame: a level with its confidence, or a refusal.

    A read frame is also stored as an observation of the camera's virtual
    gauge (``station_code``); a refused one keeps only this row and its reason.
    """

    __table_args__ = (sa.UniqueConstraint("camera_id", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    camera_id: str = Field(index=True)
    station_code: str
    observed_at: datetime = Field(sa_column=_time(index=True))
    frame: str
    level_cm: float | None = None
    level_m: float | None = None
    confidence: float = 0.0
    reason: str | None = None
    cycle_id: int | None = Field(default=None, index=True)
    ingested_at: datetime = Field(default_factory=utc_now, sa_column=_time())


# Village flood-risk model: static exposure of each village.


class VillageExposure(SQLModel, table=True):
    """Static inputs of the risk model for one village (NULL when unknown).

    Computed by ``argus villages exposure`` from the revenue circle that
    contains the village; see :mod:`argus.exposure` for sources and units.
    """

    village_id: str = Field(primary_key=True)
    object_id: str | None = Field(default=None, index=True)
    elevation_m: float | None = None
    river_distance_km: float | None = None
    no_sanitation_share: float | None = None
    piped_water_share: float | None = None
    electricity_class: float | None = None
    embankment_km: float | None = None
    computed_at: datetime = Field(default_factory=utc_now, sa_column=_time())


# Satellite scenes, citizen reports, trust and fallback: their own module.
from argus.storage.source_tables import (  # noqa: F401
    CitizenReport,
    FallbackOverride,
    SatelliteObservation,
    SatelliteScene,
    SourceTrust,
    VillageSource,
)
