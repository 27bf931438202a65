"""Fixtures of the backtest tests: one backtest run per database and module."""

import os

import pytest

from tests.argus.backtest import handmade
from tests.conftest import _reset_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scratch_url(request, tmp_path_factory) -> str:
    """A scratch database URL for a module's backtests: SQLite, then PostgreSQL.

    Module-scoped, unlike ``database_url``, so that a module runs its backtest
    once per database and checks the outputs in several tests.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('scratch') / 'scratch.db'}"
    url = os.environ.get("ARGUS_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("ARGUS_TEST_DATABASE_URL is not set; CI must test PostgreSQL")
        pytest.skip("ARGUS_TEST_DATABASE_URL is not set")
    _reset_postgres(url)
    return url


@pytest.fixture(scope="module")
def handmade_folder(tmp_path_factory):
    """The hand-made poll folder of :mod:`tests.argus.backtest.handmade`."""
    return handmade.write_folder(tmp_path_factory.mktemp("handmade") / "polls")
