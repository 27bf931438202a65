"""Read the water level off a staff gauge in one camera frame, or refuse with a reason.

The frame is rectified into the calibrated gauge strip. The waterline is the
first row, from the top, where the gauge face turns from its dry brightness to
the darker water (a reflection, or the submerged face seen through clear water)
and stays dark. Before a level is returned, the frame must show:

- enough light on the face, and no large saturated area (glare);
- the marks above the waterline where the calibration put them: a shift of
  more than ``MAX_SHIFT_PX`` means the camera moved, and marks that do not
  match at all mean something covers the gauge.

Infrared night frames go through the same checks: they are read when the lit
face and its marks pass, and refused otherwise. Nothing is interpolated from
earlier frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from argus.errors import InputError
from models.gauge_calibration import (
    MARK_COLUMNS,
    STRIP_MARGIN_PX,
    GaugeCalibration,
    column_band,
    face_edges,
    rectify,
)

# Brightness (0..255) below which the 95th percentile of the face counts as dark.
DARK_FACE_P95 = 40.0
# Share of face pixels at 250 or more above which the frame counts as glare.
GLARE_SATURATED_SHARE = 0.10
# Relative drop of face brightness that marks the waterline.
MIN_WATERLINE_DROP = 0.2
# Largest shift of the marks [strip px] still read as the calibrated position.
MAX_SHIFT_PX = 2
# Correlation of the marks with the calibrated pattern below which the gauge
# counts as covered.
MIN_MARK_CORRELATION = 0.5
STEP_WINDOW_ROWS = 6
# Rise per pixel at the face's edges, relative to the face brightness, below
# which the edges count as covered.
MIN_EDGE_STRENGTH = 0.05


@dataclass(frozen=True)
class GaugeReading:
    """The outcome of one frame: a level with a confidence, or a refusal."""

    level_cm: float | None
    # Heuristic in [0, 1] from the waterline's contrast and the marks' match;
    # not a calibrated probability.
    confidence: float
    # Why the frame was refused (starts with dark, glare, occluded, moved, no
    # waterline or out of range); None when read.
    reason: str | None = None
    waterline_row: float | None = None

    @property
    def read(self) -> bool:
        """Whether the frame gave a level."""
        return self.level_cm is not None


def _refuse(reason: str) -> GaugeReading:
    return GaugeReading(level_cm=None, confidence=0.0, reason=reason)


def check_frame_size(frame: np.ndarray, calibration: GaugeCalibration) -> None:
    """Raise InputError when a frame's size differs from the calibrated one."""
    height, width = frame.shape[:2]
    expected = (calibration.frame_width_px, calibration.frame_height_px)
    if (width, height) != expected:
        raise InputError(
            f"frame is {width}x{height} px but camera {calibration.camera_id!r} "
            f"is calibrated for {expected[0]}x{expected[1]} px; check the camera's "
            "resolution setting or rebuild its calibration"
        )


def read_gauge(
    frame: np.ndarray,
    calibration: GaugeCalibration,
    *,
    transform: np.ndarray | None = None,
) -> GaugeReading:
    """Read the level [cm] on the calibrated gauge in a greyscale frame.

    ``transform`` is the calibration's strip homography, passed in by callers
    that read many frames. Raises InputError for a frame of the wrong size.
    """
    check_frame_size(frame, calibration)
    if transform is None:
        transform = calibration.strip_transform()
    width, height = calibration.strip_width_px, calibration.strip_height_px
    strip = rectify(frame, transform, width, height)
    face = strip[
        STRIP_MARGIN_PX : STRIP_MARGIN_PX + height,
        STRIP_MARGIN_PX : STRIP_MARGIN_PX + width,
    ]

    exposure = _check_exposure(face)
    if exposure:
        return _refuse(exposure)

    # The bottom margin lets a waterline just below the last mark be found.
    below_face = strip[STRIP_MARGIN_PX:, STRIP_MARGIN_PX : STRIP_MARGIN_PX + width]
    brightness = np.percentile(below_face, 80, axis=1)
    waterline, drop = find_waterline(brightness)
    if waterline is None:
        return _refuse(
            "no waterline: the gauge face shows no step from dry to wet brightness"
        )

    marks = column_band(strip, width, MARK_COLUMNS)[STRIP_MARGIN_PX:]
    covered = _check_dry_below(
        brightness, waterline, marks, mark_pattern(calibration.marks, height)
    )
    if covered:
        return _refuse(covered)

    position = _check_marks(strip, calibration, waterline)
    if isinstance(position, str):
        return _refuse(position)

    level_cm = calibration.level_cm(waterline)
    # One mark spacing (2 cm) below the lowest mark is still inside the fit.
    lowest = min(mark.level_cm for mark in calibration.marks)
    if level_cm < lowest - 2.0:
        return _refuse(
            f"out of range: waterline at {level_cm:.1f} cm is more than 2 cm below "
            f"the lowest calibrated mark ({lowest:g} cm)"
        )
    confidence = float(np.clip((drop - 0.1) / 0.3, 0.0, 1.0) * position)
    return GaugeReading(
        level_cm=round(level_cm, 2),
        confidence=round(confidence, 3),
        waterline_row=round(waterline, 2),
    )


def _check_exposure(face: np.ndarray) -> str | None:
    bright = float(np.percentile(face, 95))
    if bright < DARK_FACE_P95:
        return (
            f"dark: gauge face 95th-percentile brightness {bright:.0f} is below "
            f"{DARK_FACE_P95:.0f}"
        )
    saturated = float((face >= 250).mean())
    if saturated > GLARE_SATURATED_SHARE:
        return f"glare: {saturated:.0%} of the gauge face is saturated"
    return None


def find_waterline(brightness: np.ndarray) -> tuple[float | None, float]:
    """Find the first lasting drop of face brightness, from the top of the strip.

    ``brightness`` is one value per strip row. Returns the sub-pixel row where
    the brightness crosses half-way between the dry level above and the wet
    level below, and the relative drop, or (None, 0.0) when no row qualifies.
    The drop must last: the 20 rows below stay under 80% of the dry level, which
    passes over a single dark mark, digit or stain.
    """
    window = STEP_WINDOW_ROWS
    rows = len(brightness)
    for row in range(window, rows - window):
        above = float(np.median(brightness[row - window : row]))
        below = float(np.median(brightness[row + 1 : row + 1 + window]))
        if above <= 0 or (above - below) / above < MIN_WATERLINE_DROP:
            continue
        after = brightness[row + 1 : min(rows, row + 21)]
        if float(np.median(after)) >= 0.8 * above:
            continue
        return _refine_step(brightness, row, above, below), (above - below) / above
    return None, 0.0


def _check_dry_below(
    brightness: np.ndarray, waterline: float, marks: np.ndarray, pattern: np.ndarray
) -> str | None:
    """Refuse when the gauge shows dry again, marks and all, below the waterline.

    Water does not end half-way down a gauge: a dark band with the bright face
    and its marks in place under it is something in front of the gauge (a
    leaf, a bird, debris). A bright reflection of the sky has no marks.
    """
    row = int(waterline)
    dry = float(np.median(brightness[max(row - 12, 0) : row - 1]))
    window = 4 * STEP_WINDOW_ROWS
    end = min(len(brightness), len(pattern))
    for start in range(row + window // 2, end - window, STEP_WINDOW_ROWS):
        stretch = slice(start, start + window)
        if float(np.median(brightness[stretch])) < 0.9 * dry:
            continue
        if _correlation(marks[stretch], pattern[stretch]) >= MIN_MARK_CORRELATION:
            return (
                f"occluded: the gauge face is dark at strip rows {row}..{start} "
                "but dry, with its marks, again below; something covers the gauge"
            )
    return None


def _refine_step(brightness: np.ndarray, row: int, above: float, below: float):
    """Return the sub-pixel row where brightness first crosses the mid level."""
    middle = (above + below) / 2
    start = max(row - STEP_WINDOW_ROWS, 0)
    for index in range(start, row + STEP_WINDOW_ROWS):
        upper, lower = float(brightness[index]), float(brightness[index + 1])
        if upper >= middle > lower:
            return index + (upper - middle) / (upper - lower) + 0.5
    return float(row) + 0.5


def _check_marks(
    strip: np.ndarray, calibration: GaugeCalibration, waterline: float
) -> float | str:
    """Check the gauge's position and its marks above the waterline.

    Returns the marks' correlation with the calibrated pattern when the face's
    top and left edges sit where calibrated and the marks match, or the refusal
    reason: moved (an edge shifted) or occluded (marks missing).
    """
    left, top, strength = face_edges(strip, last_row=int(waterline) - 2)
    if strength < MIN_EDGE_STRENGTH:
        return (
            "occluded: the gauge face's top or left edge is not visible "
            f"(edge strength {strength:.2f})"
        )
    shift = (left - calibration.face_left_col, top - calibration.face_top_row)
    if max(abs(shift[0]), abs(shift[1])) > MAX_SHIFT_PX:
        return (
            f"moved: gauge face is {shift[0]:+d} px across and {shift[1]:+d} px down "
            "from its calibrated place; rebuild the camera's calibration"
        )

    above = [m for m in calibration.marks if m.bottom_row < waterline - 2]
    if len(above) < 2:
        return (
            "occluded: fewer than 2 gauge marks above the waterline, so the "
            "gauge cannot be checked"
        )
    last = int(above[-1].bottom_row) + 4
    pattern = mark_pattern(above, last + 1)
    profile = column_band(strip, calibration.strip_width_px, MARK_COLUMNS)
    first = STRIP_MARGIN_PX
    score = _correlation(profile[first : first + last + 1], pattern)
    if score < MIN_MARK_CORRELATION:
        return (
            f"occluded: gauge marks above the waterline do not match the "
            f"calibration (correlation {score:.2f})"
        )
    return score


def mark_pattern(marks, rows: int) -> np.ndarray:
    """Return the expected mark column per strip row: -1 on a mark, 1 on the face."""
    pattern = np.ones(rows, dtype=np.float32)
    for mark in marks:
        pattern[round(mark.top_row) : round(mark.bottom_row) + 1] = -1.0
    return pattern


def _correlation(values: np.ndarray, pattern: np.ndarray) -> float:
    if len(values) != len(pattern):
        return -1.0
    values = values - values.mean()
    pattern = pattern - pattern.mean()
    scale = float(np.sqrt((values**2).sum() * (pattern**2).sum()))
    return float((values * pattern).sum() / scale) if scale > 0 else -1.0


def read_gauge_file(path: Path, calibration: GaugeCalibration) -> GaugeReading:
    """Read one image file; raises InputError naming the file when it is unusable."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InputError(f"frame {str(path)!r} cannot be read: {error}") from None
    if size == 0:
        raise InputError(f"frame {str(path)!r} is an empty file")
    frame = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if frame is None:
        raise InputError(
            f"frame {str(path)!r} is not a readable image (corrupt or not JPEG/PNG)"
        )
    try:
        return read_gauge(frame, calibration)
    except InputError as error:
        raise InputError(f"frame {str(path)!r}: {error}") from None
