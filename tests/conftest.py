"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the recorded real data (read only)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"recorded data not found at {SHARED_DATA}; tests need it")
    return SHARED_DATA
