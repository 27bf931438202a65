"""Database engine, sessions and migrations.

SQLite in WAL mode is the embedded default; any SQLAlchemy URL (PostgreSQL in
production, through psycopg) can be set with ``ARGUS_DATABASE_URL``.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlmodel import Session

from argus.errors import ConfigurationError, StorageError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _normalise_url(url: str) -> str:
    """Make plain ``postgresql://`` URLs use psycopg 3, the driver ARGUS installs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _enable_sqlite_wal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str) -> sa.Engine:
    """Create an engine for ``url``; a SQLite file's folder is created if missing.

    Statement parameters are left out of SQL logs and error messages, because
    they include subscribers' phone numbers.

    Raises
    ------
    ConfigurationError
        When the URL cannot be parsed.
    """
    url = _normalise_url(url)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as error:
        raise ConfigurationError(
            f"invalid database URL {url!r}: {error}; "
            "expected e.g. postgresql://user@host/db or sqlite:///path/argus.db"
        ) from error
    try:
        if parsed.get_backend_name() == "sqlite":
            _make_folder(parsed.database)
            engine = sa.create_engine(
                url, connect_args={"timeout": 10}, hide_parameters=True
            )
            sa.event.listen(engine, "connect", _enable_sqlite_wal)
            return engine
        return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise ConfigurationError(
            f"database URL {parsed.render_as_string(hide_password=True)!r} "
            f"cannot be used: {error}; ARGUS supports sqlite:/// and postgresql://"
        ) from error


def _make_folder(database: str | None) -> None:
    if not database or database == ":memory:":
        return
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"cannot create the database folder {str(folder)!r}: {error.strerror}; "
            "set ARGUS_HOME to a writable folder"
        ) from error


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Raises
    ------
    StorageError
        When the database cannot be reached or a migration fails.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except (sa.exc.OperationalError, sa.exc.DatabaseError) as error:
        raise StorageError(
            f"database {engine.url.render_as_string(hide_password=True)!r} "
            f"could not be reached or migrated: {error.orig}"
        ) from error


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


_ENGINES: dict[str, sa.Engine] = {}


def engine_for(url: str) -> sa.Engine:
    """Return a migrated engine for ``url``, created once per process."""
    if url not in _ENGINES:
        engine = create_db_engine(url)
        migrate(engine)
        _ENGINES[url] = engine
    return _ENGINES[url]
