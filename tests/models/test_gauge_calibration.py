"""Building a staff-gauge calibration from the gauge's own marks."""

import json

import cv2
import pytest

from argus.errors import ConfigurationError, InputError
from models.gauge_calibration import (
    build_calibration,
    load_calibration,
    save_calibration,
)
from tests.conftest import REPO_ROOT

CALIBRATION = REPO_ROOT / "deployments" / "cameras" / "north-river-marsh.json"
FRAME = "NRmarshDN-12-06-30-10-45.jpg"
CORNERS = [(289, 207), (314, 207), (319, 560), (294, 560)]


@pytest.fixture(scope="module")
def frame(shared_data):
    path = shared_data / "gaugecam" / "images" / FRAME
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def _build(frame, **changes):
    options = {
        "camera_id": "north-river-marsh",
        "station_code": "CAM-NRMARSH",
        "gauge_corners": CORNERS,
        "top_long_mark_cm": 100,
        **changes,
    }
    return build_calibration(frame, **options)


def test_calibration_counts_marks_down_the_gauge(frame):
    calibration = _build(frame)

    levels = [mark.level_cm for mark in calibration.marks]
    assert len(levels) == 44
    assert levels[0] == 100
    assert levels[-1] == 14
    assert all(mark.long for mark in calibration.marks if mark.level_cm % 10 == 0)


def test_calibration_fit_is_tight(frame):
    calibration = _build(frame)

    assert calibration.fit_residual_rms_cm < 0.1
    assert calibration.level_cm(0.0) == pytest.approx(100.18, abs=0.01)
    assert calibration.level_cm(200.0) == pytest.approx(51.46, abs=0.01)


def test_calibration_rebuild_matches_committed_file(frame, tmp_path):
    # Floats may differ in the last digits between CPUs and BLAS builds.
    committed = json.loads(CALIBRATION.read_text())
    rebuilt = _build(
        frame,
        built_from=FRAME,
        frame_name_format=committed["frame_name_format"],
        frame_timezone=committed["frame_timezone"],
        notes=committed["notes"],
    )
    path = tmp_path / "rebuilt.json"

    save_calibration(rebuilt, path)

    assert _same_values(json.loads(path.read_text()), committed)


def _same_values(rebuilt, committed) -> bool:
    """Compare JSON values exactly, except floats, which match to 1e-9."""
    if isinstance(committed, dict):
        return rebuilt.keys() == committed.keys() and all(
            _same_values(rebuilt[key], committed[key]) for key in committed
        )
    if isinstance(committed, list):
        return len(rebuilt) == len(committed) and all(
            _same_values(a, b) for a, b in zip(rebuilt, committed, strict=True)
        )
    if isinstance(committed, float):
        return rebuilt == pytest.approx(committed, rel=1e-9, abs=1e-12)
    return rebuilt == committed


def test_calibration_rejects_wrong_top_label(frame):
    # Labelling the top long mark 98 puts every 10 cm mark on a short one.
    with pytest.raises(InputError, match=r"counted as 90 cm, is short"):
        _build(frame, top_long_mark_cm=98)


def test_calibration_rejects_corners_off_gauge(frame):
    with pytest.raises(InputError, match="no long mark found|regular marks"):
        _build(frame, gauge_corners=[(600, 50), (640, 50), (640, 150), (600, 150)])


def test_load_calibration_missing_file(tmp_path):
    with pytest.raises(ConfigurationError, match=r"nothere\.json' not found"):
        load_calibration(tmp_path / "nothere.json")


def test_load_calibration_corrupt_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ not json")

    with pytest.raises(ConfigurationError, match=r"broken\.json' is not valid JSON"):
        load_calibration(path)


def test_load_calibration_missing_field(tmp_path):
    raw = json.loads(CALIBRATION.read_text())
    del raw["level_coefficients"]
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigurationError, match=r"partial\.json' is invalid"):
        load_calibration(path)
