"""Camera readings: every frame's outcome, and read levels as virtual gauge rows."""

from datetime import datetime

from sqlmodel import Session, select

from argus.storage.tables import CameraReading, Observation
from models.gauge_calibration import GaugeCalibration
from models.gauge_reader import GaugeReading

# Data type of observations that come from a camera, beside CWC's "HHS".
CAMERA_DATATYPE = "CAM"


def read_times(session: Session, camera_id: str, since: datetime) -> set[datetime]:
    """Times of a camera's frames already stored (read or refused) after ``since``."""
    query = select(CameraReading.observed_at).where(
        CameraReading.camera_id == camera_id, CameraReading.observed_at > since
    )
    return set(session.exec(query).all())


def level_m(calibration: GaugeCalibration, level_cm: float) -> float:
    """Convert a gauge reading [cm] to a level [m].

    With a surveyed ``gauge_zero_m`` the result is a reduced level (m above
    mean sea level), comparable with CWC's. Without one it is metres above the
    gauge's own zero.
    """
    zero_m = calibration.gauge_zero_m or 0.0
    return round(zero_m + level_cm / 100.0, 4)


def store_reading(
    session: Session,
    calibration: GaugeCalibration,
    reading: GaugeReading,
    *,
    observed_at: datetime,
    frame: str,
    cycle_id: int | None,
    published_at: datetime,
) -> None:
    """Store one frame's outcome; a read level also becomes an observation."""
    level = None if reading.level_cm is None else level_m(calibration, reading.level_cm)
    session.add(
        CameraReading(
            camera_id=calibration.camera_id,
            station_code=calibration.station_code,
            observed_at=observed_at,
            frame=frame,
            level_cm=reading.level_cm,
            level_m=level,
            confidence=reading.confidence,
            reason=reading.reason,
            cycle_id=cycle_id,
        )
    )
    if level is None:
        return
    session.add(
        Observation(
            station_code=calibration.station_code,
            observed_at=observed_at,
            level_m=level,
            station_code_raw=calibration.station_code,
            datatype=CAMERA_DATATYPE,
            source=f"camera:{calibration.camera_id}",
            accepted=True,
            cycle_id=cycle_id,
            published_at=published_at,
        )
    )
