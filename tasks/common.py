"""Helpers shared by the tasks: settings and the database engine."""

import sqlalchemy as sa

from argus.errors import ArgusError, StorageError
from argus.settings import Settings, load_settings
from argus.storage.db import engine_for


def settings_and_engine() -> tuple[Settings, sa.Engine]:
    """Current settings and the migrated engine of their database."""
    settings = load_settings()
    return settings, engine_for(settings.resolved_database_url)


def retry_if_transient(task, task_run, state) -> bool:
    """Retry a failed task only when the failure may be transient.

    ARGUS's own errors (a replay time with no snapshot, a malformed payload, a
    source still unreachable after the HTTP client's own retries) fail the same
    way on a retry, so only database errors and unexpected ones are retried.
    """
    try:
        state.result()
    except StorageError:
        return True
    except ArgusError:
        return False
    except Exception:  # noqa: BLE001  (a database hiccup may be transient)
        return True
    return False
