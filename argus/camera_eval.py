"""Score the staff-gauge reader on a folder of frames against recorded levels."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from argus.cameras import FRAME_SUFFIXES
from argus.errors import InputError
from models.gauge_calibration import GaugeCalibration
from models.gauge_reader import read_gauge_file

TRUTH_NAME_COLUMN = "image"
TRUTH_LEVEL_COLUMN = "gaugecam_height_cm"


def load_truth(path: Path) -> dict[str, float]:
    """Read the recorded level [cm] per frame name; raises InputError naming the line."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"truth file {str(path)!r} cannot be read: {error}") from None
    if not rows or not {TRUTH_NAME_COLUMN, TRUTH_LEVEL_COLUMN} <= set(rows[0]):
        raise InputError(
            f"truth file {str(path)!r} needs the columns {TRUTH_NAME_COLUMN!r} "
            f"and {TRUTH_LEVEL_COLUMN!r}"
        )
    truth = {}
    for line, row in enumerate(rows, start=2):
        try:
            truth[row[TRUTH_NAME_COLUMN]] = float(row[TRUTH_LEVEL_COLUMN])
        except (TypeError, ValueError):
            raise InputError(
                f"truth file {str(path)!r} line {line}: {TRUTH_LEVEL_COLUMN} "
                f"{row[TRUTH_LEVEL_COLUMN]!r} is not a number"
            ) from None
    return truth


def select_frames(images: Path, *, every: int = 1, offset: int = 0) -> list[Path]:
    """Frames of a folder sorted by name, every ``every``-th from ``offset``."""
    if not Path(images).is_dir():
        raise InputError(f"image folder {str(images)!r} not found")
    frames = sorted(
        path for path in Path(images).iterdir() if path.suffix.lower() in FRAME_SUFFIXES
    )
    return frames[offset::every]


def evaluate(
    frames: list[Path], truth: dict[str, float], calibration: GaugeCalibration
) -> dict:
    """Read each frame and compare with its recorded level.

    Returns frames, read, read_fraction and mae_cm (over the frames read, None
    when none was read), plus max_error_cm, the refusal reasons and the frames
    skipped because they have no recorded level or are unreadable files.
    """
    errors, refused, skipped = [], {}, []
    scored = 0
    for path in frames:
        if path.name not in truth:
            skipped.append(f"{path.name}: no recorded level")
            continue
        scored += 1
        try:
            reading = read_gauge_file(path, calibration)
        except InputError as error:
            refused[path.name] = f"bad input: {error}"
            continue
        if not reading.read:
            refused[path.name] = reading.reason
            continue
        errors.append(reading.level_cm - truth[path.name])

    absolute = np.abs(errors)
    return {
        "frames": scored,
        "read": len(errors),
        "read_fraction": round(len(errors) / scored, 4) if scored else 0.0,
        "mae_cm": round(float(absolute.mean()), 3) if errors else None,
        "max_error_cm": round(float(absolute.max()), 3) if errors else None,
        "bias_cm": round(float(np.mean(errors)), 3) if errors else None,
        "refused": refused,
        "skipped": skipped,
    }
