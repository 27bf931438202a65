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
    """The current level of a village; a change of level raises an alert."""

    village_id: str = Field(primary_key=True)
    level: str
    since: datetime = Field(sa_column=_time())
    cycle_at: datetime = Field(sa_column=_time())
    station_code: str | None = None
    reasons: str = "[]"


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


class SubscriberVillage(SQLModel, table=True):
    """Link from a subscriber to a village they are warned about."""

    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True)
    village_id: str = Field(primary_key=True, index=True)


class Outbox(SQLModel, table=True):
    """A message waiting to be sent; the key makes a retried send a no-op."""

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    subscriber_id: int = Field(foreign_key="subscriber.id")
    channel: str
    language: str
    body: str
    status: str = "queued"
    created_at: datetime = Field(default_factory=utc_now, sa_column=_time())


class Cycle(SQLModel, table=True):
    """One nowcast cycle and its summary (JSON)."""

    id: int | None = Field(default=None, primary_key=True)
    cycle_at: datetime = Field(sa_column=_time(index=True))
    mode: str
    started_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    finished_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    status: str = "running"
    summary: str = "{}"
