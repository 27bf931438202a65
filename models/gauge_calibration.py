"""Per-camera calibration of a staff gauge: where the gauge is and how rows map to cm.

A calibration is built once from one chosen frame in which the gauge face is dry
over most of its length. The operator gives the four corners of the gauge face
and the value printed next to the topmost long mark. Everything else comes from
the gauge's own marks found in that frame:

1. the face is rectified (``cv2.warpPerspective``) into a vertical strip, so a
   leaning gauge becomes straight and one strip row is one step along the gauge;
2. the dark marks are found in the mark column of the strip, with sub-pixel
   edges where the brightness crosses half-way between mark and face;
3. counting down from the labelled long mark, each mark's top edge gets its
   value in cm (marks every 2 cm, a long mark every 10 cm, checked);
4. a straight line is fitted by least squares from strip row to level (cm).

No observed water level enters the fit. The result is a JSON file kept under
``deployments/cameras/`` together with the station the camera reads for.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from argus.errors import ConfigurationError, InputError

STRIP_MARGIN_PX = 12
# Fractions of the strip width: the mark column (short and long marks), and two
# inner columns that only long marks cover both of. Dirt or a screw head next to
# a short mark darkens one of them, rarely both.
MARK_COLUMNS = (0.80, 0.96)
LONG_MARK_COLUMNS = ((0.62, 0.68), (0.70, 0.76))


@dataclass(frozen=True)
class Mark:
    """One dark mark of the gauge: its edges in strip rows and its value [cm]."""

    top_row: float
    bottom_row: float
    level_cm: float
    long: bool


@dataclass(frozen=True)
class GaugeCalibration:
    """A camera's staff gauge: its place in the frame and the row-to-cm mapping."""

    camera_id: str
    # Code of the virtual gauge under which the camera's readings are stored.
    station_code: str
    # The CWC station or village the camera serves; either may be None.
    serves_station_code: str | None
    serves_village_id: str | None
    frame_width_px: int
    frame_height_px: int
    # Gauge face corners in frame pixels: top-left, top-right, bottom-right,
    # bottom-left.
    gauge_corners: tuple[tuple[float, float], ...]
    strip_width_px: int
    strip_height_px: int
    marks: tuple[Mark, ...]
    # level_cm = c0 + c1 * row + c2 * row**2 over strip rows: the quadratic term
    # absorbs the shrinking mark spacing down a gauge seen from above.
    level_coefficients: tuple[float, ...]
    fit_residual_rms_cm: float
    # Face's left edge column and top edge row in the margined strip of the
    # calibration frame. A frame whose edges lie elsewhere is from a moved camera.
    face_left_col: int
    face_top_row: int
    # Reduced level of the gauge's 0 cm [m above mean sea level], when surveyed.
    gauge_zero_m: float | None
    # strptime format of frame file names and their time zone (IANA name).
    frame_name_format: str | None = None
    frame_timezone: str = "UTC"
    # Address to download the camera's current frame from in live cycles.
    frame_url: str | None = None
    built_from: str = ""
    notes: list[str] = field(default_factory=list)

    def level_cm(self, strip_row: float) -> float:
        """Convert a strip row to a gauge level [cm]."""
        return float(
            np.polynomial.polynomial.polyval(strip_row, self.level_coefficients)
        )

    @property
    def level_range_cm(self) -> tuple[float, float]:
        """Lowest and highest level [cm] the strip covers."""
        ends = (self.level_cm(0.0), self.level_cm(float(self.strip_height_px)))
        return min(ends), max(ends)

    def strip_transform(self) -> np.ndarray:
        """Return the homography from frame pixels to the strip with its margin."""
        return strip_transform(
            self.gauge_corners, self.strip_width_px, self.strip_height_px
        )


def strip_transform(corners, width_px: int, height_px: int) -> np.ndarray:
    """Return the homography mapping the gauge face onto a margined strip."""
    m = STRIP_MARGIN_PX
    target = np.float32(
        [[m, m], [m + width_px, m], [m + width_px, m + height_px], [m, m + height_px]]
    )
    return cv2.getPerspectiveTransform(np.float32(corners), target)


def rectify(frame: np.ndarray, transform: np.ndarray, width_px: int, height_px: int):
    """Warp a greyscale frame into the gauge strip (margin included) as float32."""
    size = (width_px + 2 * STRIP_MARGIN_PX, height_px + 2 * STRIP_MARGIN_PX)
    strip = cv2.warpPerspective(frame, transform, size, flags=cv2.INTER_LINEAR)
    return strip.astype(np.float32)


def column_band(strip: np.ndarray, width_px: int, fractions) -> np.ndarray:
    """Mean brightness per strip row over a band of columns given as fractions."""
    first = STRIP_MARGIN_PX + round(fractions[0] * width_px)
    last = STRIP_MARGIN_PX + round(fractions[1] * width_px)
    return strip[:, first : max(last, first + 1)].mean(axis=1)


def find_marks(strip: np.ndarray, width_px: int) -> list[tuple[float, float, bool]]:
    """Find dark marks in the mark column: (top row, bottom row, long) per mark.

    Rows are strip rows without the margin. A mark is a run of rows darker than
    60% of the brightest face within 15 rows. Its edges are placed where the
    brightness crosses half-way between the mark's darkest row and the face.
    """
    profile = column_band(strip, width_px, MARK_COLUMNS)
    inner = [column_band(strip, width_px, band) for band in LONG_MARK_COLUMNS]
    face = ndimage.maximum_filter1d(profile, 15)
    labels, count = ndimage.label(profile < 0.6 * face)
    marks = []
    for index in range(1, count + 1):
        rows = np.flatnonzero(labels == index)
        if len(rows) < 2 or rows[0] == 0 or rows[-1] + 1 >= len(profile):
            continue
        middle = (face[rows].mean() + profile[rows].min()) / 2
        top = _crossing(profile, rows[0] - 1, middle)
        bottom = _crossing(profile, rows[-1], middle)
        long = all(band[rows].mean() < 0.6 * face[rows].mean() for band in inner)
        marks.append((top - STRIP_MARGIN_PX, bottom - STRIP_MARGIN_PX, long))
    return marks


def face_edges(strip: np.ndarray, *, last_row: int) -> tuple[int, int, float]:
    """Locate the face's left edge (column) and top edge (row) in the margined strip.

    Each edge is the steepest rise of brightness into the face within the
    margin's reach of its calibrated place. Only strip rows above ``last_row``
    (without the margin) are averaged for the left edge. The third value is
    the weaker edge's rise per pixel relative to the face's 95th-percentile
    brightness: near zero when something covers the edges.
    """
    m = STRIP_MARGIN_PX
    columns = strip[m : m + max(last_row, 4)].mean(axis=0)
    rows = strip[: 2 * m, m : strip.shape[1] - m].mean(axis=1)
    column_rise = np.diff(columns)[: 2 * m]
    row_rise = np.diff(rows)
    face = float(np.percentile(strip[m : m + max(last_row, 4), m:-m], 95))
    strength = min(column_rise.max(), row_rise.max()) / max(face, 1.0)
    return int(np.argmax(column_rise)), int(np.argmax(row_rise)), float(strength)


def _crossing(profile: np.ndarray, row: int, level: float) -> float:
    """Sub-pixel row between ``row`` and ``row + 1`` where the profile crosses."""
    upper, lower = float(profile[row]), float(profile[row + 1])
    if upper == lower:
        return row + 0.5
    return row + float(np.clip((upper - level) / (upper - lower), 0.0, 1.0)) + 0.5


def label_marks(
    found: list[tuple[float, float, bool]],
    *,
    top_long_mark_cm: float,
    mark_spacing_cm: float = 2.0,
    long_mark_every_cm: float = 10.0,
) -> list[Mark]:
    """Give each mark its value, counting down from the topmost long mark.

    Marks follow at a regular spacing, and the run stops at the first gap that
    is not a whole number of spacings (the waterline or a fouled stretch). Raises
    InputError when a mark that falls on a multiple of ``long_mark_every_cm``
    is short, because then the count or the label is wrong. A short mark that
    looks long is accepted: dirt next to it can darken the inner columns.
    """
    first_long = next((i for i, mark in enumerate(found) if mark[2]), None)
    if first_long is None:
        raise InputError("no long mark found on the gauge; check the gauge corners")
    run = found[first_long:]
    spacing = float(np.median(np.diff([mark[0] for mark in run[:6]])))
    marks = [Mark(_px(run[0][0]), _px(run[0][1]), top_long_mark_cm, True)]
    steps = 0
    for previous, current in itertools.pairwise(run):
        ratio = (current[0] - previous[0]) / spacing
        if round(ratio) < 1 or abs(ratio - round(ratio)) > 0.2:
            break
        steps += round(ratio)
        level = top_long_mark_cm - steps * mark_spacing_cm
        multiple = level / long_mark_every_cm
        if abs(multiple - round(multiple)) < 1e-6 and not current[2]:
            raise InputError(
                f"mark at strip row {current[0]:.1f}, counted as {level:g} cm, is "
                f"short, but every {long_mark_every_cm:g} cm mark is long; check "
                "the top long mark's value and that no mark is hidden"
            )
        marks.append(Mark(_px(current[0]), _px(current[1]), level, current[2]))
    return marks


def _px(row: float) -> float:
    return round(float(row), 3)


def fit_levels(marks: list[Mark], *, mark_spacing_cm: float = 2.0) -> tuple:
    """Fit level [cm] against strip row through every mark edge.

    Returns the quadratic's coefficients (lowest power first) and the RMS of
    the residuals [cm].

    A mark's top edge is its value and its bottom edge lies half a spacing
    lower, because the marks are as tall as the gaps between them.
    """
    rows = [m.top_row for m in marks] + [m.bottom_row for m in marks]
    levels = [m.level_cm for m in marks] + [
        m.level_cm - mark_spacing_cm / 2 for m in marks
    ]
    # NOTE: the top-edge convention comes from the North River gauge, whose
    # plate ends flush with the top edge of its 100 cm mark. A gauge that
    # centres each mark on its value reads half a mark height (0.5 cm) low.
    polynomial = np.polynomial.polynomial
    coefficients = polynomial.polyfit(rows, levels, 2)
    residual = np.asarray(levels) - polynomial.polyval(rows, coefficients)
    rms = float(np.sqrt(np.mean(residual**2)))
    return tuple(float(c) for c in coefficients), rms


def build_calibration(
    frame: np.ndarray,
    *,
    camera_id: str,
    station_code: str,
    gauge_corners,
    top_long_mark_cm: float,
    built_from: str = "",
    **details,
) -> GaugeCalibration:
    """Build a camera's calibration from one frame and the gauge's own marks."""
    corners = tuple((float(x), float(y)) for x, y in gauge_corners)
    width = round(float(np.hypot(*np.subtract(corners[1], corners[0]))))
    height = round(float(np.hypot(*np.subtract(corners[3], corners[0]))))
    transform = strip_transform(corners, width, height)
    strip = rectify(frame, transform, width, height)

    found = find_marks(strip, width)
    marks = label_marks(found, top_long_mark_cm=top_long_mark_cm)
    if len(marks) < 10:
        raise InputError(
            f"only {len(marks)} regular marks found below the top long mark; "
            "choose a frame with the gauge dry over at least 20 cm"
        )
    coefficients, rms = fit_levels(marks)
    edges = face_edges(strip, last_row=int(marks[-1].bottom_row))
    return GaugeCalibration(
        camera_id=camera_id,
        station_code=station_code,
        serves_station_code=details.get("serves_station_code"),
        serves_village_id=details.get("serves_village_id"),
        frame_width_px=int(frame.shape[1]),
        frame_height_px=int(frame.shape[0]),
        gauge_corners=corners,
        strip_width_px=width,
        strip_height_px=height,
        marks=tuple(marks),
        level_coefficients=coefficients,
        fit_residual_rms_cm=rms,
        face_left_col=edges[0],
        face_top_row=edges[1],
        gauge_zero_m=details.get("gauge_zero_m"),
        frame_name_format=details.get("frame_name_format"),
        frame_timezone=details.get("frame_timezone") or "UTC",
        frame_url=details.get("frame_url"),
        built_from=built_from,
        notes=list(details.get("notes") or []),
    )


def save_calibration(calibration: GaugeCalibration, path: Path) -> None:
    """Write a calibration as indented JSON."""
    path.write_text(json.dumps(asdict(calibration), indent=2) + "\n", encoding="utf-8")


def load_calibration(path: Path) -> GaugeCalibration:
    """Read a calibration file; raises ConfigurationError naming the file."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"camera calibration {str(path)!r} not found; build it with "
            "'argus camera calibrate'"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(
            f"camera calibration {str(path)!r} is not valid JSON: {error}"
        ) from None
    try:
        raw["marks"] = tuple(Mark(**mark) for mark in raw["marks"])
        raw["gauge_corners"] = tuple(tuple(corner) for corner in raw["gauge_corners"])
        raw["level_coefficients"] = tuple(raw["level_coefficients"])
        calibration = GaugeCalibration(**raw)
    except (KeyError, TypeError) as error:
        raise ConfigurationError(
            f"camera calibration {str(path)!r} is invalid: {error}"
        ) from None
    if len(calibration.gauge_corners) != 4 or len(calibration.level_coefficients) < 2:
        raise ConfigurationError(
            f"camera calibration {str(path)!r} is invalid: expected 4 gauge corners "
            "and at least 2 level coefficients"
        )
    return calibration
