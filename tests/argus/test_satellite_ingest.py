"""The satellite step of a cycle: each scene once, bad files recorded, HTTP listing."""

import functools
import json
import threading
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from sqlmodel import select

from argus.satellite import ingest_scenes
from argus.settings import Settings
from argus.storage.db import session_scope
from argus.storage.satellite import latest_observations
from argus.storage.source_tables import SatelliteScene
from argus.storage.villages import upsert_villages

LAYER = "bhuvan_inundation_as_2023_07_07_18.tif"
CYCLE_AT = datetime.fromisoformat("2026-08-01T12:00+05:30")
# Rajgarh Chariali, the wettest place of the 2023 layer, and Barpeta town.
VILLAGES = pd.DataFrame(
    {
        "village_id": ["node/12144941896", "node/245746325"],
        "name": ["Rajgarh Chariali", "Barpeta"],
        "lat": [None, 26.32578],
        "lon": [None, 91.00757],
        "district": [None, "Barpeta"],
        "revenue_circle": [None, "Barpeta"],
        "place_kind": ["village", "city"],
    }
)
DECLARED = {"variable": "flooded_percent", "unit": "percent"}


@pytest.fixture
def villages(engine, shared_data):
    places = json.loads((shared_data / "geo" / "assam_osm_places.json").read_text())
    centre = {p["osm_id"]: p["centre"] for p in places["places"]}
    frame = VILLAGES.copy()
    frame["lon"] = [centre[v][0] for v in frame["village_id"]]
    frame["lat"] = [centre[v][1] for v in frame["village_id"]]
    with session_scope(engine) as session:
        upsert_villages(session, frame, source="test")
    return frame


def _declare(path, acquired_at):
    path.with_suffix(".json").write_text(
        json.dumps({**DECLARED, "acquired_at": acquired_at})
    )


@pytest.fixture
def folder(tmp_path, shared_data):
    folder = tmp_path / "satellite"
    folder.mkdir()
    (folder / "flood.tif").symlink_to(shared_data / "satellite" / LAYER)
    _declare(folder / "flood.tif", "2026-08-01T06:00+05:30")
    (folder / "empty.tif").write_bytes(b"")
    _declare(folder / "empty.tif", "2026-08-01T06:00+05:30")
    (folder / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 200)
    _declare(folder / "broken.tif", "2026-08-01T06:00+05:30")
    (folder / "later.tif").symlink_to(shared_data / "satellite" / LAYER)
    _declare(folder / "later.tif", "2026-08-02T06:00+05:30")
    return folder


def test_scene_ingested_once(engine, villages, folder, tmp_path):
    settings = Settings(satellite_dir=folder, home=tmp_path / "home")

    first = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)
    again = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    assert first.scenes_ingested == 1
    assert first.scenes_rejected == 2
    assert first.scenes_not_yet_acquired == 1
    assert first.observations_stored == 2
    assert again.scenes_ingested == 0
    assert again.scenes_rejected == 0
    assert again.observations_stored == 0


def test_bad_files_are_named_and_recorded(engine, villages, folder, tmp_path):
    settings = Settings(satellite_dir=folder, home=tmp_path / "home")

    report = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    with session_scope(engine) as session:
        rejected = session.exec(
            select(SatelliteScene).where(SatelliteScene.status == "rejected")
        ).all()
    reasons = {scene.name: scene.reason for scene in rejected}
    assert "is an empty file" in reasons["empty.tif"]
    assert "is not a readable GeoTIFF" in reasons["broken.tif"]
    assert any("empty.tif" in failure for failure in report.failures)
    assert any("broken.tif" in failure for failure in report.failures)


def test_same_bytes_under_a_later_name_counts_once(engine, villages, folder, tmp_path):
    settings = Settings(satellite_dir=folder, home=tmp_path / "home")
    later = datetime.fromisoformat("2026-08-02T12:00+05:30")

    ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)
    report = ingest_scenes(engine, settings=settings, cycle_at=later)

    assert report.scenes_ingested == 0


def test_fraction_stored_per_village(engine, villages, folder, tmp_path):
    settings = Settings(satellite_dir=folder, home=tmp_path / "home")

    ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    with session_scope(engine) as session:
        observed = latest_observations(session, as_of=CYCLE_AT).set_index("village_id")
        before = latest_observations(
            session, as_of=datetime.fromisoformat("2026-08-01T05:00+05:30")
        )
    assert observed.loc["node/12144941896", "flooded_fraction"] == pytest.approx(
        0.2514, abs=1e-4
    )
    assert observed.loc["node/245746325", "flooded_fraction"] == pytest.approx(
        0.00208, abs=1e-5
    )
    assert observed.loc["node/245746325", "radius_km"] == 2.0
    assert before.empty


def test_missing_folder_is_a_failure(engine, villages, tmp_path):
    settings = Settings(satellite_dir=tmp_path / "nowhere", home=tmp_path / "home")

    report = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    assert report.scenes_ingested == 0
    assert report.failures == [
        f"satellite folder {str(tmp_path / 'nowhere')!r} not found"
    ]


@pytest.fixture
def listing_server(tmp_path, shared_data):
    """A local HTTP server with a product listing and one GeoTIFF."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "flood.tif").symlink_to(shared_data / "satellite" / LAYER)
    listing = {
        "products": [
            {"href": "flood.tif", **DECLARED, "acquired_at": "2026-08-01T06:00+05:30"},
            {"href": "missing.tif", **DECLARED, "acquired_at": "2026-08-01T06:00Z"},
        ]
    }
    (served / "listing.json").write_text(json.dumps(listing))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/listing.json"
    server.shutdown()
    server.server_close()


def test_http_listing_downloads_and_ingests(engine, villages, listing_server, tmp_path):
    settings = Settings(satellite_url=listing_server, home=tmp_path / "home")

    report = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    assert report.scenes_ingested == 1
    assert (tmp_path / "home" / "satellite_cache" / "flood.tif").is_file()
    assert len(report.failures) == 1
    assert "'missing.tif': download failed" in report.failures[0]


def test_unreachable_listing_is_a_failure(engine, villages, tmp_path):
    settings = Settings(
        satellite_url="http://127.0.0.1:9/listing.json",
        home=tmp_path / "home",
        http_timeout_s=2,
    )

    report = ingest_scenes(engine, settings=settings, cycle_at=CYCLE_AT)

    assert report.scenes_ingested == 0
    assert report.failures[0].startswith("satellite: listing")
