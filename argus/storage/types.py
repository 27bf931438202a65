"""Column types shared by the tables."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa


def to_sql_value(value):
    """Turn a frame cell into a value a column takes: NaN, NaT and NA become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware timestamp stored in UTC.

    SQLite keeps no offset, so values are converted to UTC on the way in and
    marked UTC on the way out. A naive datetime is rejected: every time inside
    ARGUS carries its zone.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"time zone missing in {value!r}; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
