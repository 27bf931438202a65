"""Cameras as a source of the nowcast cycle: staff-gauge frames to virtual gauges.

Each camera has a calibration file ``<camera_id>.json`` in the calibration
folder and a folder ``<camera_id>/`` of frames in ``ARGUS_CAMERA_DIR``. A frame's
time comes from its file name (the calibration's ``frame_name_format``), so a
replay as of time T reads only frames taken by T. Every new frame is read once:
a level becomes an accepted observation of the camera's virtual gauge, and
every outcome, refusals included, is kept with its reason and confidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

from argus.errors import ConfigurationError, InputError
from argus.settings import Settings
from argus.storage import cameras as camera_store
from argus.storage.db import session_scope
from models.gauge_calibration import GaugeCalibration, load_calibration
from models.gauge_reader import GaugeReading, read_gauge_file

logger = logging.getLogger(__name__)

FRAME_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
# File name of frames when a calibration names no format: UTC time.
DEFAULT_FRAME_NAME_FORMAT = "%Y%m%dT%H%M%SZ.jpg"


@dataclass
class CameraReport:
    """Counts of one cycle's camera ingest."""

    cameras: int = 0
    readings: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def frame_time(path: Path, calibration: GaugeCalibration) -> datetime:
    """Parse a frame's time (UTC) from its file name; raises InputError."""
    name_format = calibration.frame_name_format or DEFAULT_FRAME_NAME_FORMAT
    try:
        taken_at = datetime.strptime(path.name, name_format)
    except ValueError:
        raise InputError(
            f"frame {str(path)!r}: name does not match the format "
            f"{name_format!r} of camera {calibration.camera_id!r}"
        ) from None
    if taken_at.tzinfo is None:
        taken_at = taken_at.replace(tzinfo=ZoneInfo(calibration.frame_timezone))
    return taken_at.astimezone(UTC)


def load_calibrations(folder: Path) -> tuple[dict[str, GaugeCalibration], list[str]]:
    """Load every ``*.json`` calibration in a folder, keyed by camera id.

    A broken file is reported in the returned failures and skipped.
    """
    calibrations, failures = {}, []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            calibration = load_calibration(path)
        except ConfigurationError as error:
            failures.append(str(error))
            continue
        calibrations[calibration.camera_id] = calibration
    return calibrations, failures


def ingest_cameras(
    engine: sa.Engine,
    *,
    cycle_id: int,
    cycle_at: datetime,
    settings: Settings,
    fetch: bool = True,
) -> CameraReport:
    """Read every camera's new frames up to ``cycle_at`` and store the outcomes.

    With ``fetch`` (live cycles), a camera with a ``frame_url`` first gets a
    frame downloaded into its folder. Frames older than the series lookback
    are skipped. A bad frame, folder or calibration is reported in
    ``failures`` and the rest goes on.
    """
    report = CameraReport()
    if settings.camera_dir is None:
        return report
    calibrations, report.failures = load_calibrations(settings.camera_calibration_dir)
    since = cycle_at - timedelta(hours=settings.series_lookback_h)
    for folder in _camera_folders(settings.camera_dir, report):
        calibration = calibrations.get(folder.name)
        if calibration is None:
            report.failures.append(
                f"camera folder {str(folder)!r} has no calibration "
                f"{folder.name}.json in {str(settings.camera_calibration_dir)!r}"
            )
            continue
        report.cameras += 1
        if fetch and calibration.frame_url:
            _fetch_frame(calibration, folder, cycle_at, settings, report)
        with session_scope(engine) as session:
            known = camera_store.read_times(session, calibration.camera_id, since)
        for path, taken_at in _new_frames(folder, calibration, since, cycle_at, report):
            if taken_at in known:
                continue
            reading = _read(path, calibration, report)
            with session_scope(engine) as session:
                camera_store.store_reading(
                    session,
                    calibration,
                    reading,
                    observed_at=taken_at,
                    frame=path.name,
                    cycle_id=cycle_id,
                    published_at=cycle_at,
                )
    _log(report, cycle_id)
    return report


def _camera_folders(camera_dir: Path, report: CameraReport) -> list[Path]:
    if not Path(camera_dir).is_dir():
        report.failures.append(f"camera folder {str(camera_dir)!r} not found")
        return []
    return sorted(path for path in Path(camera_dir).iterdir() if path.is_dir())


def _new_frames(folder, calibration, since, until, report):
    """Frames of a folder taken after ``since`` and by ``until``, oldest first."""
    frames = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in FRAME_SUFFIXES:
            continue
        try:
            taken_at = frame_time(path, calibration)
        except InputError as error:
            report.failures.append(str(error))
            continue
        if since < taken_at <= until:
            frames.append((path, taken_at))
    return sorted(frames, key=lambda item: item[1])


def _read(path: Path, calibration: GaugeCalibration, report: CameraReport):
    try:
        reading = read_gauge_file(path, calibration)
    except InputError as error:
        report.failures.append(str(error))
        reading = GaugeReading(None, confidence=0.0, reason=f"bad input: {error}")
    if reading.read:
        report.readings += 1
    else:
        kind = reading.reason.split(":")[0]
        report.refused[kind] = report.refused.get(kind, 0) + 1
        logger.warning(
            "camera %s frame %s refused: %s",
            calibration.camera_id,
            path.name,
            reading.reason,
        )
    return reading


def _fetch_frame(calibration, folder: Path, cycle_at, settings, report) -> None:
    """Download the camera's current frame into its folder, named by ``cycle_at``."""
    name_format = calibration.frame_name_format or DEFAULT_FRAME_NAME_FORMAT
    local = cycle_at.astimezone(ZoneInfo(calibration.frame_timezone))
    target = folder / local.strftime(name_format)
    try:
        response = httpx.get(calibration.frame_url, timeout=settings.http_timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as error:
        report.failures.append(
            f"camera {calibration.camera_id!r}: fetching {calibration.frame_url!r} "
            f"failed: {error}"
        )
        return
    target.write_bytes(response.content)


def _log(report: CameraReport, cycle_id: int) -> None:
    for failure in report.failures:
        logger.warning("camera source problem: %s", failure)
    logger.info(
        "cycle %d: %d cameras, %d frames read, refused %s",
        cycle_id,
        report.cameras,
        report.readings,
        report.refused,
    )
