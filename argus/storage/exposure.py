"""Static village exposure (inputs of the flood-risk model) in the database."""

import logging
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from argus.exposure import EXPOSURE_COLUMNS
from argus.storage.tables import VillageExposure

logger = logging.getLogger(__name__)

# Rows per INSERT statement: bounded so that a million villages stay in memory.
BATCH_ROWS = 20_000


def store_exposure(session: Session, exposure: pd.DataFrame) -> int:
    """Replace the exposure of the given villages; returns the rows stored."""
    table = VillageExposure.__table__
    frame = exposure.loc[:, list(EXPOSURE_COLUMNS)].copy()
    frame["object_id"] = frame["object_id"].astype(object)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["computed_at"] = datetime.now(UTC)
    ids = frame["village_id"].astype(str).tolist()
    for start in range(0, len(ids), BATCH_ROWS):
        chunk = ids[start : start + BATCH_ROWS]
        session.execute(sa.delete(table).where(table.c.village_id.in_(chunk)))
    records = frame.to_dict("records")
    for start in range(0, len(records), BATCH_ROWS):
        session.execute(sa.insert(table), records[start : start + BATCH_ROWS])
    session.flush()
    logger.info("stored the exposure of %d villages", len(records))
    return len(records)


def load_exposure(session: Session) -> pd.DataFrame:
    """Load all stored exposure rows, columns ``EXPOSURE_COLUMNS`` (NULL as NaN)."""
    rows = session.exec(
        select(*[getattr(VillageExposure, c) for c in EXPOSURE_COLUMNS])
    )
    frame = pd.DataFrame(rows.all(), columns=list(EXPOSURE_COLUMNS))
    for column in EXPOSURE_COLUMNS[2:]:
        frame[column] = frame[column].astype("float64")
    frame["object_id"] = frame["object_id"].replace({np.nan: None})
    return frame
