"""Stations, observations and quarantine in the database.

Observations are idempotent and revision-aware. A candidate row whose value
is already stored for its station and time is not new, so it is dropped before
the contracts see it. A different value becomes the next revision and is judged
by the contracts on its own. Being the newest, it is the one used from then on.
When the contracts rejected it, that station and time has no usable value until
a newer revision passes.
"""

import hashlib
import logging
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from argus.storage.tables import Observation, Quarantine, Station, utc_now
from argus.storage.types import to_sql_value

logger = logging.getLogger(__name__)

RIVER_LEVEL_DATATYPE = "HHS"
_KEY_COLUMNS = ["station_code", "observed_at"]


def upsert_stations(session: Session, stations: pd.DataFrame) -> int:
    """Insert or update the station reference rows; returns the number written."""
    existing = {s.station_code: s for s in session.exec(select(Station)).all()}
    fields = set(Station.model_fields) - {"updated_at"}
    for record in stations.to_dict("records"):
        values = {k: to_sql_value(v) for k, v in record.items() if k in fields}
        station = existing.get(values["station_code"])
        if station is None:
            session.add(Station(**values))
        else:
            for key, value in values.items():
                setattr(station, key, value)
            station.updated_at = utc_now()
    session.flush()
    return len(stations)


def load_stations(session: Session) -> pd.DataFrame:
    """Load the station reference table as a frame (NaN where a threshold is unused)."""
    rows = [s.model_dump() for s in session.exec(select(Station)).all()]
    frame = pd.DataFrame(rows, columns=list(Station.model_fields))
    for column in ("warning_level_m", "danger_level_m", "highest_flood_level_m"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    return frame


def row_keys(frame: pd.DataFrame) -> pd.Series:
    """Compute a stable key per candidate row from its values as received."""
    text = (
        frame["station_code_raw"].astype(str)
        + "|"
        + frame["observed_at_raw"].astype(str)
        + "|"
        + frame["level_raw"].astype(str)
        + "|"
        + frame["datatype"].astype(str)
    )
    return text.map(lambda s: hashlib.sha1(s.encode()).hexdigest())


def _is_storable(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["station_code"].astype(str).str.len().gt(0)
        & frame["observed_at"].notna()
        & np.isfinite(frame["level_m"].astype(float))
        & frame["datatype"].eq(RIVER_LEVEL_DATATYPE)
    )


def stored_revisions(
    session: Session, since: datetime, *, as_of: datetime | None = None
) -> pd.DataFrame:
    """Load the stored revisions of the station times at or after ``since``.

    With ``as_of``, only the revisions published at or before that time.
    """
    query = select(
        Observation.station_code,
        Observation.observed_at,
        Observation.revision,
        Observation.level_m,
        Observation.accepted,
        Observation.published_at,
    ).where(Observation.observed_at >= since)
    if as_of is not None:
        query = query.where(Observation.published_at <= as_of)
    rows = session.exec(query).all()
    columns = [
        "station_code",
        "observed_at",
        "revision",
        "level_m",
        "accepted",
        "published_at",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    frame["level_m"] = frame["level_m"].astype(float)
    frame["revision"] = frame["revision"].astype(int)
    return frame


def newest_revisions(
    session: Session, since: datetime, *, as_of: datetime
) -> pd.DataFrame:
    """Load the revision in use per station and time at or after ``since``.

    The revision in use as of ``as_of`` is the one published last at or before
    it (the higher revision number breaks a tie).
    """
    frame = stored_revisions(session, since, as_of=as_of)
    frame = frame.sort_values(["published_at", "revision"])
    return frame.drop_duplicates(_KEY_COLUMNS, keep="last").reset_index(drop=True)


def select_new_candidates(
    session: Session, candidates: pd.DataFrame, *, as_of: datetime
) -> pd.DataFrame:
    """Keep only the candidate rows that are new values, numbering their revisions.

    A value is new unless a revision published at or before ``as_of`` contains it.

    Returns the new rows with two more columns: ``revision`` (0 for rows that
    cannot be stored as observations: missing station, time or level, or not a
    river level) and ``row_key``.
    """
    frame = candidates.drop_duplicates(
        ["station_code_raw", "observed_at_raw", "level_raw", "datatype"], keep="last"
    ).copy()
    frame["row_key"] = row_keys(frame)
    storable = _is_storable(frame)

    keyed = frame[storable]
    if len(keyed):
        keyed = _number_revisions(session, keyed, as_of=as_of)

    keyless = frame[~storable].copy()
    if len(keyless):
        seen = set(
            session.exec(
                select(Quarantine.row_key).where(
                    Quarantine.row_key.in_(keyless["row_key"].tolist())
                )
            ).all()
        )
        keyless = keyless[~keyless["row_key"].isin(seen)]
    keyless["revision"] = 0
    return pd.concat([keyed, keyless], ignore_index=True)


def _number_revisions(
    session: Session, keyed: pd.DataFrame, *, as_of: datetime
) -> pd.DataFrame:
    """Drop values already stored for their station and time; number the rest.

    A value counts as stored when any revision of that station and time
    contains it, not only the newest. CWC's series and latest-level tables can
    disagree on one hour, and comparing with the newest alone would store the
    two values again, alternately, in every cycle.
    """
    stored = stored_revisions(session, keyed["observed_at"].min())
    stored["level_key"] = stored["level_m"].round(6)
    visible = stored[stored["published_at"] <= pd.Timestamp(as_of)]
    keyed = keyed.assign(level_key=keyed["level_m"].astype(float).round(6))
    seen = keyed.merge(
        visible[[*_KEY_COLUMNS, "level_key"]].drop_duplicates(),
        on=[*_KEY_COLUMNS, "level_key"],
        how="left",
        indicator=True,
    )["_merge"].eq("both")
    keyed = keyed[~seen.to_numpy()]

    top = stored.groupby(_KEY_COLUMNS)["revision"].max().rename("top_revision")
    keyed = keyed.merge(top.reset_index(), on=_KEY_COLUMNS, how="left")
    # Two new values for one station and time in the same batch get
    # consecutive revisions.
    in_batch = keyed.groupby(_KEY_COLUMNS, sort=False).cumcount()
    keyed["revision"] = keyed["top_revision"].fillna(0).astype(int) + 1 + in_batch
    return keyed.drop(columns=["level_key", "top_revision"])


def store_judged(
    session: Session,
    *,
    accepted: pd.DataFrame,
    quarantined: pd.DataFrame,
    cycle_id: int,
    published_at: datetime,
) -> int:
    """Store judged candidates; returns the number of observation revisions stored.

    ``published_at`` is the cycle time: when ARGUS first saw these values.
    """
    stamp = {"cycle_id": cycle_id, "published_at": published_at}
    observations = [
        _observation(record, accepted=True, **stamp)
        for record in accepted.to_dict("records")
        if record["revision"] > 0
    ]
    observations += [
        _observation(record, accepted=False, **stamp)
        for record in quarantined.to_dict("records")
        if record["revision"] > 0
    ]
    session.add_all(observations)
    known = set(
        session.exec(
            select(Quarantine.row_key).where(
                Quarantine.row_key.in_(quarantined["row_key"].tolist())
            )
        ).all()
    )
    session.add_all(
        _quarantine(record, cycle_id)
        for record in quarantined.drop_duplicates("row_key").to_dict("records")
        if record["row_key"] not in known
    )
    session.flush()
    return len(observations)


def _observation(
    record: dict, *, cycle_id: int, accepted: bool, published_at: datetime
) -> Observation:
    return Observation(
        station_code=record["station_code"],
        observed_at=record["observed_at"].to_pydatetime(),
        revision=int(record["revision"]),
        level_m=float(record["level_m"]),
        station_code_raw=str(record["station_code_raw"]),
        datatype=str(record["datatype"]),
        source=str(record["source"]),
        accepted=accepted,
        rule=None if accepted else record["rule"],
        cycle_id=cycle_id,
        published_at=published_at,
    )


def _quarantine(record: dict, cycle_id: int) -> Quarantine:
    observed_at = record["observed_at"]
    level_m = record["level_m"]
    return Quarantine(
        row_key=record["row_key"],
        cycle_id=cycle_id,
        station_code=str(record["station_code"] or ""),
        station_code_raw=str(record["station_code_raw"]),
        observed_at=None if pd.isna(observed_at) else observed_at.to_pydatetime(),
        observed_at_raw=str(record["observed_at_raw"]),
        level_m=None if pd.isna(level_m) else float(level_m),
        value_raw=str(record["level_raw"]),
        datatype=str(record["datatype"]),
        rule=record["rule"],
        rules=record.get("rules") or record["rule"],
        source=str(record["source"]),
    )


def load_accepted_history(
    session: Session, since: datetime, *, as_of: datetime
) -> pd.DataFrame:
    """Load accepted river levels since ``since``, as published by ``as_of``.

    Each hour gives its revision in use as of ``as_of``; a station and time
    whose revision in use was rejected has no row here.
    """
    newest = newest_revisions(session, since, as_of=as_of)
    newest = newest[newest["accepted"].astype(bool)]
    columns = ["station_code", "observed_at", "level_m"]
    return newest[columns].sort_values(columns[:2]).reset_index(drop=True)


def quarantine_since(session: Session, since: datetime) -> list[Quarantine]:
    """Quarantined rows observed at or after ``since``, oldest first.

    A row without a usable observation time counts from when it was quarantined.
    """
    query = (
        select(Quarantine)
        .where(
            sa.or_(
                Quarantine.observed_at >= since,
                sa.and_(
                    Quarantine.observed_at.is_(None), Quarantine.created_at >= since
                ),
            )
        )
        .order_by(Quarantine.observed_at, Quarantine.id)
    )
    return list(session.exec(query).all())


def newest_observed_at(session: Session) -> datetime | None:
    """Return the time of the newest stored observation, None when there is none."""
    newest = session.exec(select(sa.func.max(Observation.observed_at))).one()
    if newest is None or newest.tzinfo is not None:
        return newest
    return newest.replace(tzinfo=UTC)


def count_observations(session: Session) -> int:
    return session.exec(select(sa.func.count()).select_from(Observation)).one()
