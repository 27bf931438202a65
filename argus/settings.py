"""Settings of ARGUS, read from environment variables with the ``ARGUS_`` prefix.

The set is closed: an ``ARGUS_`` variable that names no setting is rejected, so a
typo in a deployment fails loudly instead of being ignored.
"""

import os
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.errors import ConfigurationError

# Variables with the prefix that are read by the test suite, not by ARGUS.
# ARGUS_CHECKOUT is the checkout folder that prefect.yaml's pull step changes into.
_NOT_SETTINGS = frozenset({"ARGUS_TEST_DATABASE_URL", "ARGUS_CHECKOUT"})


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
    # How far back the first cycle, or the first after an outage, requests
    # series [h]: the adaptive regression needs 10 days of readings.
    series_backfill_h: float = Field(default=240.0, gt=0, le=720)
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
    # Most SMS segments one warning may take; less important parts are cut to fit.
    sms_max_segments: int = Field(default=3, ge=1, le=10)
    # Folder of corrected message templates (<language>.toml); empty: the packaged ones.
    templates_dir: Path | None = None
    # CAP <sender>: a globally unique name of this ARGUS installation.
    cap_sender: str = Field(default="argus-flood-warning", pattern=r"^[^\s,<&]+$")
    # Radius of the CAP <circle> drawn around a village's position [km].
    cap_area_radius_km: float = Field(default=3.0, gt=0, le=100)
    # CAP <expires> of an alert stored without an expiry time, after its cycle [h].
    cap_expires_h: float = Field(default=24.0, gt=0, le=240)
    # Whether village levels combine the CWC rules with the flood-risk model.
    risk_model_enabled: bool = True
    # Folder of the risk model artifact; empty means the committed default.
    risk_model_dir: str = ""
    # A reading this far below the warning level is near it for the risk rule [m].
    risk_near_warning_m: float = Field(default=0.5, ge=0, le=5)

    # Twilio: the account SID and auth token switch sending on; without them the
    # console channel records what would be sent.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    # Sender addresses (E.164): SMS, WhatsApp (without the "whatsapp:" prefix)
    # and voice calls; an empty voice sender falls back to the SMS sender.
    twilio_from: str = ""
    twilio_whatsapp_from: str = ""
    twilio_voice_from: str = ""
    # Base URL of Twilio's REST API; empty is https://api.twilio.com.
    twilio_base_url: str = ""
    # Timeout of one Twilio request [s].
    twilio_timeout_s: float = Field(default=10.0, gt=0)
    # Create requests per message before it is left for the next drain.
    twilio_attempts: int = Field(default=5, ge=1, le=20)
    # First retry delay, doubled per attempt up to twilio_backoff_max_s; each
    # delay is drawn from the upper half of that value (jitter) [s].
    twilio_backoff_s: float = Field(default=1.0, ge=0)
    twilio_backoff_max_s: float = Field(default=30.0, ge=0)
    # Twilio requests in flight at once, over all senders.
    twilio_concurrency: int = Field(default=32, ge=1, le=1000)
    # Messages per second per sender address (SMS and WhatsApp). Twilio queues
    # what a sender cannot pass on at once, for up to the validity period.
    twilio_messages_per_s: float = Field(default=10.0, gt=0)
    # Voice calls started per second; set it to the account's calls-per-second
    # limit at Twilio.
    twilio_calls_per_s: float = Field(default=1.0, gt=0)
    # Age after which an undelivered message is dropped: Twilio's ValidityPeriod
    # for SMS and WhatsApp, and the expiry of outbox rows without one [s].
    twilio_validity_period_s: int = Field(default=1800, ge=5, le=36000)
    # A row marked sending longer than this is taken to belong to a crashed
    # sender and is reconciled with Twilio before it is sent again [s].
    outbox_lease_s: float = Field(default=300.0, gt=0)
    # Public base URL of `argus api` as Twilio calls it, which differs from the
    # local address behind a proxy. Status callbacks and webhook signature
    # checks use it.
    public_url: str = ""
    # Key of the hash that identifies a reply's sender; empty uses the auth token.
    phone_hash_key: str = ""

    @property
    def twilio_enabled(self) -> bool:
        """Whether messages go to Twilio (credentials set) or to the console."""
        return bool(self.twilio_account_sid or self.twilio_auth_token)

    # A recipient who has not acknowledged an alert gets the next escalation
    # step this long after the previous one: voice call, then ward volunteer [s].
    escalation_after_s: float = Field(default=900.0, gt=0)
    # Last escalation step: 0 none, 1 a voice call, 2 the village's ward volunteer.
    escalation_max_step: int = Field(default=2, ge=0, le=2)
    # True escalates every unacknowledged recipient; false only undelivered ones.
    escalation_needs_ack: bool = True
    # Time between reminders while a village stays at EMERGENCY [s].
    reminder_interval_s: float = Field(default=3600.0, gt=0)
    # Time between reminders at EMERGENCY while Storm Mode is on [s].
    storm_reminder_interval_s: float = Field(default=1800.0, gt=0)
    # Cycles a lower level must hold before a village's level goes down.
    downgrade_hold_cycles: int = Field(default=3, ge=1, le=100)
    # A reading this far below the threshold of the current level lowers it at once [m].
    downgrade_margin_m: float = Field(default=0.1, ge=0)
    # After a downgrade, a rise back below EMERGENCY within this time sends nothing [s].
    upgrade_cooldown_s: float = Field(default=1800.0, ge=0)
    # Storm Mode turns on when at least this many villages are at EMERGENCY.
    storm_emergency_villages: int = Field(default=3, ge=1)
    # Storm Mode turns off when every village has been below WARNING this long [s].
    storm_calm_s: float = Field(default=1800.0, ge=0)
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
    except ValidationError as error:
        raise ConfigurationError(_describe_invalid(error)) from error
    except ValueError as error:
        raise ConfigurationError(f"invalid setting: {error}") from error


def _describe_invalid(error: ValidationError) -> str:
    """Name each rejected variable with its value and the cause, on one line.

    Pydantic's own message starts with "1 validation error for Settings" and
    puts the variable on later lines, which the command line does not print.
    """
    problems = []
    for item in error.errors():
        variable = "ARGUS_" + "_".join(str(part) for part in item["loc"]).upper()
        problems.append(f"{variable}={item.get('input')!r}: {item['msg']}")
    return "invalid setting " + "; ".join(problems) + "; fix or unset it"
