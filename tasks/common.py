"""Helpers shared by the tasks: settings and the database engine."""

import sqlalchemy as sa

from argus.errors import SourceUnavailable
from argus.settings import Settings, load_settings
from argus.storage.db import engine_for


def settings_and_engine() -> tuple[Settings, sa.Engine]:
    """Current settings and the migrated engine of their database."""
    settings = load_settings()
    return settings, engine_for(settings.resolved_database_url)


def retry_unless_unreachable(task, task_run, state) -> bool:
    """Retry a failed task unless its source is unreachable.

    The HTTP client has already retried with backoff before raising
    SourceUnavailable, so another task-level round only delays the clear error.
    """
    try:
        state.result()
    except SourceUnavailable:
        return False
    except Exception:  # noqa: BLE001  (any other failure may be transient)
        return True
    return False
