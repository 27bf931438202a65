"""The village registry in the database."""

import logging

import pandas as pd
from sqlmodel import Session, select

from argus.storage.tables import Village
from argus.storage.types import to_sql_value
from argus.villages import VILLAGE_COLUMNS

logger = logging.getLogger(__name__)


def upsert_villages(session: Session, villages: pd.DataFrame, *, source: str) -> int:
    """Insert new villages and update known ones by ``village_id``; returns the count."""
    existing = {v.village_id: v for v in session.exec(select(Village)).all()}
    for record in villages[list(VILLAGE_COLUMNS)].to_dict("records"):
        values = {k: to_sql_value(v) for k, v in record.items()}
        values["village_id"] = str(values["village_id"])
        village = existing.get(values["village_id"])
        if village is None:
            session.add(Village(**values, source=source))
            continue
        for key, value in values.items():
            setattr(village, key, value)
        village.source = source
    session.flush()
    logger.info("stored %d villages from %s", len(villages), source)
    return len(villages)


def count_villages(session: Session) -> int:
    return len(session.exec(select(Village.village_id)).all())


def load_villages(session: Session) -> pd.DataFrame:
    """Load all villages as a frame with the columns of the village readers."""
    rows = [v.model_dump() for v in session.exec(select(Village)).all()]
    return pd.DataFrame(rows, columns=list(Village.model_fields))
