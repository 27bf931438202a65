"""Fixtures shared by the whole suite."""

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Fixtures of the fake CWC FFS server (fake_ffs, fake_ffs_server) and the fake
# Twilio server (fake_twilio, twilio_env) for every test.
pytest_plugins = ["tests.fake_ffs", "tests.fake_twilio"]

# Prefect runs offline in tests: no telemetry from the temporary server.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the recorded real data (read only)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"recorded data not found at {SHARED_DATA}; tests need it")
    return SHARED_DATA


def _reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    from argus.storage.db import create_db_engine

    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database: embedded SQLite, then the PostgreSQL of CI.

    PostgreSQL is used when ARGUS_TEST_DATABASE_URL is set; in CI (CI=true) a
    missing variable fails the test instead of skipping it.
    """
    from argus.storage import db

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'argus.db'}"
    else:
        url = os.environ.get("ARGUS_TEST_DATABASE_URL")
        if not url:
            if os.environ.get("CI"):
                pytest.fail(
                    "ARGUS_TEST_DATABASE_URL is not set; CI must test PostgreSQL"
                )
            pytest.skip("ARGUS_TEST_DATABASE_URL is not set")
        _reset_postgres(url)
        yield url
    for engine in db._ENGINES.values():
        engine.dispose()
    db._ENGINES.clear()


@pytest.fixture
def engine(database_url):
    """A migrated engine on an empty database."""
    from argus.storage.db import create_db_engine, migrate

    engine = create_db_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def argus_env(database_url, tmp_path, monkeypatch) -> str:
    """Point the ARGUS settings at an empty database and a scratch home folder."""
    for key in list(os.environ):
        if key.startswith("ARGUS_") and key != "ARGUS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("ARGUS_DATABASE_URL", database_url)
    monkeypatch.setenv("ARGUS_HOME", str(tmp_path / "home"))
    return database_url


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API for flow tests (one per test session)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def village_cut(shared_data, tmp_path) -> tuple[Path, list[str]]:
    """Every eighth OpenStreetMap place as a villages CSV, and their ids.

    A cut keeps the flow and command-line tests fast: each alert is a subflow.
    """
    places = json.loads((shared_data / "geo" / "assam_osm_places.json").read_text())
    kinds = {"village", "hamlet", "town", "city"}
    chosen = [p for p in places["places"] if p["place_kind"] in kinds][::8]
    path = tmp_path / "villages.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["village_id", "name", "lat", "lon", "district", "revenue_circle"]
        )
        for place in chosen:
            lon, lat = place["centre"]
            writer.writerow(
                [
                    place["osm_id"],
                    place["place_name"],
                    lat,
                    lon,
                    place.get("district"),
                    place.get("revenue_circle"),
                ]
            )
    return path, [place["osm_id"] for place in chosen]
