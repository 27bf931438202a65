"""Settings of ARGUS, read from environment variables with the ``ARGUS_`` prefix.

The set is closed: an ``ARGUS_`` variable that names no setting is rejected, so a
typo in a deployment fails loudly instead of being ignored.
"""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.errors import ConfigurationError

# Variables with the prefix that are read by the test suite, not by ARGUS.
_NOT_SETTINGS = frozenset({"ARGUS_TEST_DATABASE_URL"})


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "argus"


def _default_camera_calibrations() -> Path:
    return Path(__file__).resolve().parents[1] / "deployments" / "cameras"


class Settings(BaseSettings):
    """Runtime settings; each field is read from ``ARGUS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid")

    # Folder of the embedded database and caches.
    home: Path = Field(default_factory=_default_home)
    # SQLAlchemy URL; empty means SQLite (WAL) at <home>/argus.db.
    database_url: str = ""
    # Base URL of CWC's flood forecasting site (live source).
    cwc_base_url: str = "https://ffs.india-water.gov.in"
    # Overpass API endpoint for `argus villages fetch`.
    overpass_url: str = "https://overpass-api.de/api/interpreter"
    # Address of an existing Dask scheduler; empty starts a LocalCluster.
    dask_address: str = ""
    # Timeout of one HTTP request [s].
    http_timeout_s: float = Field(default=30.0, gt=0)
    # Attempts per HTTP request before the call is given up.
    http_attempts: int = Field(default=4, ge=1, le=10)
    # First retry delay, doubled on each further attempt [s].
    http_backoff_s: float = Field(default=1.0, ge=0)
    # Concurrent per-station series requests to CWC.
    cwc_concurrency: int = Field(default=4, ge=1, le=32)
    # How far back a cycle requests hourly series from CWC [h].
    series_lookback_h: float = Field(default=12.0, gt=0, le=240)
    # A reference gauge is usable while its latest accepted reading is this young [h].
    gauge_max_age_h: float = Field(default=6.0, gt=0)
    # Farthest distance from a village to its reference gauge [km].
    reference_gauge_max_distance_km: float = Field(default=25.0, gt=0)
    # Days of accepted history the contracts compare new readings with [d].
    contract_history_days: float = Field(default=7.0, gt=0)
    # Folder with one subfolder of frames per camera; unset leaves cameras off.
    camera_dir: Path | None = None
    # Folder of camera calibrations, one <camera_id>.json per camera.
    camera_calibration_dir: Path = Field(default_factory=_default_camera_calibrations)
    # Level forecaster artifact folder; empty serves the newest promoted one
    # shipped with ARGUS (or the baseline if none), "baseline" the baseline.
    level_model_dir: str = ""
    # Folder of satellite GeoTIFF products; unset means no satellite source.
    satellite_dir: Path | None = None
    # URL of a JSON listing of satellite products; empty means none.
    satellite_url: str = ""
    # A scene older than this at the cycle time is kept but not used [h].
    satellite_max_age_h: float = Field(default=72.0, gt=0)
    # Radius around a village in which the flooded fraction is taken [km].
    satellite_radius_km: float = Field(default=2.0, gt=0, le=50)
    # Citizen reports count for this long after they were sent [h].
    citizen_window_h: float = Field(default=6.0, gt=0, le=72)
    # Reports within this distance of each other corroborate each other [km].
    citizen_radius_km: float = Field(default=2.0, gt=0, le=50)
    # Secret that keys the hash of a reporter's phone number; empty means a
    # random secret kept in <home>/reporter_secret.
    reporter_secret: str = ""

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one or the embedded SQLite."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'argus.db'}"


def load_settings() -> Settings:
    """Read the settings, rejecting unknown ``ARGUS_`` variables.

    Raises
    ------
    ConfigurationError
        When a variable names no setting or a value is invalid.
    """
    known = {f"ARGUS_{name.upper()}" for name in Settings.model_fields}
    unknown = sorted(
        key
        for key in os.environ
        if key.startswith("ARGUS_") and key not in known and key not in _NOT_SETTINGS
    )
    if unknown:
        raise ConfigurationError(
            f"unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    try:
        return Settings()
    except ValueError as error:
        raise ConfigurationError(f"invalid setting: {error}") from error
