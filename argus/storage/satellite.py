"""Satellite scenes and their per-village observations in the database."""

from datetime import datetime

import pandas as pd
from sqlmodel import Session, select

from argus.storage.source_tables import SatelliteObservation, SatelliteScene
from argus.storage.types import to_sql_value

OBSERVATION_COLUMNS = (
    "village_id",
    "scene_id",
    "acquired_at",
    "flooded_fraction",
    "valid_fraction",
    "radius_km",
)


def known_digests(session: Session) -> set[str]:
    """SHA-256 digests of every scene seen so far, ingested or rejected."""
    return set(session.exec(select(SatelliteScene.sha256)).all())


def record_scene(session: Session, scene: SatelliteScene) -> int:
    """Store a scene row; returns its id."""
    session.add(scene)
    session.flush()
    return scene.id


def store_observations(
    session: Session, scene_id: int, fractions: pd.DataFrame, *, acquired_at: datetime
) -> int:
    """Store one observation per village of a scene; returns the rows stored."""
    rows = [
        SatelliteObservation(
            scene_id=scene_id,
            village_id=str(record["village_id"]),
            acquired_at=acquired_at,
            flooded_fraction=to_sql_value(record["flooded_fraction"]),
            valid_fraction=float(record["valid_fraction"]),
            radius_km=float(record["radius_km"]),
        )
        for record in fractions.to_dict("records")
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def latest_observations(session: Session, *, as_of: datetime) -> pd.DataFrame:
    """Newest observation of each village acquired at or before ``as_of``.

    A scene whose fraction is unknown at a village (too few valid cells) does
    not hide an older known one, so the returned fraction is always known.
    """
    query = (
        select(SatelliteObservation)
        .where(SatelliteObservation.acquired_at <= as_of)
        .where(SatelliteObservation.flooded_fraction.is_not(None))
    )
    rows = [o.model_dump() for o in session.exec(query).all()]
    frame = pd.DataFrame(rows, columns=list(OBSERVATION_COLUMNS))
    if frame.empty:
        return frame
    frame["acquired_at"] = pd.to_datetime(frame["acquired_at"], utc=True)
    frame = frame.sort_values(["village_id", "acquired_at", "scene_id"])
    return frame.drop_duplicates("village_id", keep="last").reset_index(drop=True)


def scenes(session: Session) -> list[SatelliteScene]:
    """Load every scene seen, newest first."""
    query = select(SatelliteScene).order_by(SatelliteScene.id.desc())
    return list(session.exec(query).all())
