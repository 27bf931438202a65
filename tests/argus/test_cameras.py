"""Cameras as a cycle source: frames in a folder become virtual gauge readings."""

import json
import shutil
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from argus.cameras import ingest_cameras
from argus.settings import Settings
from argus.storage.db import session_scope
from argus.storage.tables import CameraReading, Observation
from tests.conftest import REPO_ROOT

CALIBRATION = REPO_ROOT / "deployments" / "cameras" / "north-river-marsh.json"
CYCLE_AT = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
# Real frames renamed to minutes before the cycle, with the site's own levels.
FRAMES = {
    "NRmarshDN-12-06-30-07-30.jpg": (40, 47.05),
    "NRmarshDN-12-06-30-08-15.jpg": (25, 36.388),
    "NRmarshDN-12-05-31-23-30.jpg": (10, 35.002),
}


def _stamp(minutes_before: int) -> str:
    return (CYCLE_AT - timedelta(minutes=minutes_before)).strftime("%Y%m%dT%H%M%SZ")


@pytest.fixture
def camera_setup(shared_data, tmp_path):
    """A calibration folder and a frame folder for camera ``nrm``."""
    calibrations = tmp_path / "calibrations"
    calibrations.mkdir()
    raw = json.loads(CALIBRATION.read_text())
    raw.update(camera_id="nrm", frame_name_format=None, frame_timezone="UTC")
    (calibrations / "nrm.json").write_text(json.dumps(raw))
    frames = tmp_path / "frames" / "nrm"
    frames.mkdir(parents=True)
    for name, (minutes_before, _) in FRAMES.items():
        source = shared_data / "gaugecam" / "images" / name
        shutil.copy(source, frames / f"{_stamp(minutes_before)}.jpg")
    settings = Settings(
        camera_dir=tmp_path / "frames", camera_calibration_dir=calibrations
    )
    return settings, frames


def _readings(engine) -> list[CameraReading]:
    with session_scope(engine) as session:
        rows = session.exec(select(CameraReading).order_by(CameraReading.id)).all()
        session.expunge_all()
    return rows


def _camera_observations(engine) -> list[Observation]:
    with session_scope(engine) as session:
        query = select(Observation).where(Observation.datatype == "CAM")
        rows = session.exec(query.order_by(Observation.observed_at)).all()
        session.expunge_all()
    return rows


def test_ingest_cameras_stores_virtual_gauge(engine, camera_setup):
    settings, _ = camera_setup

    report = ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=settings)

    observations = _camera_observations(engine)
    readings = _readings(engine)
    assert report.readings == 3
    assert report.failures == []
    assert [o.station_code for o in observations] == ["CAM-NRMARSH"] * 3
    assert [o.source for o in observations] == ["camera:nrm"] * 3
    truth_m = [level / 100 for _, level in FRAMES.values()]
    assert [o.level_m for o in observations] == pytest.approx(truth_m, abs=0.01)
    assert all(0 < r.confidence <= 1 for r in readings)
    assert {r.observed_at for r in readings} == {o.observed_at for o in observations}


def test_ingest_cameras_reads_each_frame_once(engine, camera_setup):
    settings, _ = camera_setup
    ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=settings)

    again = ingest_cameras(engine, cycle_id=2, cycle_at=CYCLE_AT, settings=settings)

    assert again.readings == 0
    assert len(_readings(engine)) == 3


def test_ingest_cameras_sees_no_later_frame(engine, camera_setup):
    settings, _ = camera_setup
    earlier = CYCLE_AT - timedelta(minutes=20)

    report = ingest_cameras(engine, cycle_id=1, cycle_at=earlier, settings=settings)

    assert report.readings == 2


def test_ingest_cameras_reports_bad_frames(engine, camera_setup, tmp_path):
    settings, frames = camera_setup
    (frames / f"{_stamp(5)}.jpg").write_bytes(b"")
    (frames / f"{_stamp(4)}.jpg").write_bytes(b"\xff\xd8 truncated")
    (frames / "snapshot-latest.jpg").write_bytes(b"")
    (settings.camera_dir / "lonely").mkdir()

    report = ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=settings)

    messages = "\n".join(report.failures)
    assert report.readings == 3
    assert f"{_stamp(5)}.jpg' is an empty file" in messages
    assert f"{_stamp(4)}.jpg' is not a readable image" in messages
    assert "snapshot-latest.jpg': name does not match the format" in messages
    assert "lonely' has no calibration lonely.json" in messages
    assert report.refused == {"bad input": 2}
    refused = [r for r in _readings(engine) if r.reason]
    assert len(refused) == 2


def test_ingest_cameras_reports_broken_calibration(engine, camera_setup):
    settings, _ = camera_setup
    (settings.camera_calibration_dir / "nrm.json").write_text("{")

    report = ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=settings)

    assert report.readings == 0
    assert any("nrm.json' is not valid JSON" in f for f in report.failures)
    assert any("nrm' has no calibration nrm.json" in f for f in report.failures)


def test_ingest_cameras_off_without_folder(engine):
    report = ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=Settings())

    assert report.cameras == 0
    assert report.readings == 0


@pytest.fixture
def frame_server(shared_data):
    """A local HTTP server that serves one real frame at /frame.jpg."""
    body = shared_data / "gaugecam" / "images" / "NRmarshDN-12-06-30-09-15.jpg"
    payload = body.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status = 200 if self.path == "/frame.jpg" else 404
            self.send_response(status)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            if status == 200:
                self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_ingest_cameras_fetches_frame_url(engine, camera_setup, frame_server):
    settings, frames = camera_setup
    path = settings.camera_calibration_dir / "nrm.json"
    raw = json.loads(path.read_text())
    raw["frame_url"] = f"{frame_server}/frame.jpg"
    path.write_text(json.dumps(raw))

    report = ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=settings)

    assert (frames / f"{_stamp(0)}.jpg").exists()
    assert report.readings == 4
    newest = _camera_observations(engine)[-1]
    assert newest.level_m == pytest.approx(0.2487, abs=0.01)


def test_ingest_cameras_reports_failed_fetch(engine, camera_setup, frame_server):
    settings, _ = camera_setup
    path = settings.camera_calibration_dir / "nrm.json"
    raw = json.loads(path.read_text())
    raw["frame_url"] = f"{frame_server}/gone.jpg"
    path.write_text(json.dumps(raw))

    report = ingest_cameras(engine, cycle_id=1, cycle_at=CYCLE_AT, settings=settings)

    assert report.readings == 3
    assert any("gone.jpg' failed" in f and "404" in f for f in report.failures)
