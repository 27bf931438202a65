"""Frames per second per core of the staff-gauge reader on 800x600 frames.

Frames: the 32 real 800x600 frames of ``gaugecam/images`` with the committed
calibration ``deployments/cameras/north-river-marsh.json``. OpenCV runs with one
thread (``cv2.setNumThreads(1)``) and the process is pinned to one core where
the platform allows it, so the rates are per core.

Stages, each timed over ``--repeat`` passes of all frames (median pass kept):

- decode: ``cv2.imread`` of the JPEG file alone, the baseline;
- read: :func:`models.gauge_reader.read_gauge` on frames already decoded;
- decode + read: :func:`models.gauge_reader.read_gauge_file`, as a cycle does.

``read_to_decode_ratio`` is the read stage's time per frame over the decode
stage's.

Usage: ``python -m bench.camera --json --repeat 5``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import cv2

from models.gauge_calibration import load_calibration
from models.gauge_reader import read_gauge, read_gauge_file

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "gaugecam" / "images"
CALIBRATION = REPO / "deployments" / "cameras" / "north-river-marsh.json"


def _median_pass_seconds(work, repeat: int) -> float:
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        passes.append(time.perf_counter() - started)
    return statistics.median(passes)


def measure(repeat: int) -> dict:
    """Time the three stages; returns frames per second and the ratio."""
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    calibration = load_calibration(CALIBRATION)
    transform = calibration.strip_transform()
    paths = sorted(DATA.glob("*.jpg"))
    frames = [cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in paths]

    def decode():
        for path in paths:
            cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)

    def read():
        for frame in frames:
            read_gauge(frame, calibration, transform=transform)

    def decode_and_read():
        for path in paths:
            read_gauge_file(path, calibration)

    seconds = {
        "decode": _median_pass_seconds(decode, repeat),
        "read": _median_pass_seconds(read, repeat),
        "decode_and_read": _median_pass_seconds(decode_and_read, repeat),
    }
    count = len(paths)
    result = {f"{stage}_fps": round(count / s, 1) for stage, s in seconds.items()}
    result["read_to_decode_ratio"] = round(seconds["read"] / seconds["decode"], 2)
    result["frames"] = count
    result["frame_size"] = f"{frames[0].shape[1]}x{frames[0].shape[0]}"
    result["repeat"] = repeat
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    arguments = parser.parse_args()
    result = measure(arguments.repeat)
    if arguments.json:
        print(json.dumps(result, sort_keys=True))
        return
    for key, value in result.items():
        print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
