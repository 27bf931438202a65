"""Tables of the sources beside the gauges: satellite, citizens, trust, fallback."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from argus.storage.types import UTCDateTime


# Own copies of the helpers of ``argus.storage.tables``, which imports this
# module at its end to register these tables.
def utc_now() -> datetime:
    return datetime.now(UTC)


def _time(*, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class SatelliteScene(SQLModel, table=True):
    """A satellite product seen by ARGUS, ingested or rejected once by content."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    name: str
    origin: str
    variable: str | None = None
    unit: str | None = None
    acquired_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    status: str
    reason: str = ""
    reprojected_from: str | None = None
    villages: int = 0
    ingested_at: datetime = Field(default_factory=utc_now, sa_column=_time())


class SatelliteObservation(SQLModel, table=True):
    """Flooded fraction [1] within ``radius_km`` of a village in one scene."""

    __table_args__ = (sa.UniqueConstraint("scene_id", "village_id"),)

    id: int | None = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="satellitescene.id", index=True)
    village_id: str = Field(index=True)
    acquired_at: datetime = Field(sa_column=_time(index=True))
    flooded_fraction: float | None = None
    valid_fraction: float
    radius_km: float


class CitizenReport(SQLModel, table=True):
    """Water seen by a person at a village or a position.

    ``reporter_key`` is a keyed hash of the reporter's phone number or name,
    never the number itself.
    """

    id: int | None = Field(default=None, primary_key=True)
    village_id: str | None = Field(default=None, index=True)
    lat: float
    lon: float
    reported_at: datetime = Field(sa_column=_time(index=True))
    received_at: datetime = Field(default_factory=utc_now, sa_column=_time())
    depth_m: float | None = None
    flag: str | None = None
    reporter_key: str = Field(index=True)
    source: str


class FallbackOverride(SQLModel, table=True):
    """An operator's switch of a village to its fallback sources (history kept)."""

    id: int | None = Field(default=None, primary_key=True)
    village_id: str = Field(index=True)
    enabled: bool
    note: str = ""
    set_at: datetime = Field(default_factory=utc_now, sa_column=_time())


class SourceTrust(SQLModel, table=True):
    """Trust score [0, 1] of one source and the reasons for its latest change."""

    source_id: str = Field(primary_key=True)
    kind: str
    score: float
    reasons: str = "[]"
    updated_at: datetime = Field(sa_column=_time())


class VillageSource(SQLModel, table=True):
    """The source that decided a village's level in the latest cycle, and the reason."""

    village_id: str = Field(primary_key=True)
    cycle_at: datetime = Field(sa_column=_time())
    level: str
    source: str | None = None
    degraded: bool = False
    reason: str = ""
