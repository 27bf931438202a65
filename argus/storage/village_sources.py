"""The source that decided each village's level in the latest cycle."""

from datetime import datetime

import pandas as pd
from sqlmodel import Session, select

from argus.storage.source_tables import VillageSource


def store_village_sources(
    session: Session, levels: pd.DataFrame, *, cycle_at: datetime
) -> int:
    """Replace each village's row with this cycle's level, source and reason."""
    stored = {row.village_id: row for row in session.exec(select(VillageSource)).all()}
    for record in levels.to_dict("records"):
        village_id = str(record["village_id"])
        row = stored.get(village_id) or VillageSource(
            village_id=village_id, cycle_at=cycle_at, level=record["level"]
        )
        row.cycle_at = cycle_at
        row.level = record["level"]
        row.source = record["source"]
        row.degraded = bool(record["degraded"])
        row.reason = record["degraded_reason"] or ""
        session.add(row)
    session.flush()
    return len(levels)


def degraded_villages(session: Session) -> list[VillageSource]:
    """Villages the latest cycle decided from a fallback source or left unmonitored."""
    query = (
        select(VillageSource)
        .where(VillageSource.reason != "")
        .order_by(VillageSource.village_id)
    )
    return list(session.exec(query).all())
