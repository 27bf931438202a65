"""`argus run` against the live code path: local fake CWC and Overpass servers."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from argus.cli import app
from tests.fake_ffs import FakeFfsServer


def _overpass_answer(shared_data) -> dict:
    """The recorded OpenStreetMap places as Overpass JSON nodes."""
    places = json.loads((shared_data / "geo" / "assam_osm_places.json").read_text())
    elements = []
    for place in places["places"]:
        kind, _, number = place["osm_id"].partition("/")
        if kind != "node":
            continue
        lon, lat = place["centre"]
        elements.append(
            {
                "type": "node",
                "id": int(number),
                "lat": lat,
                "lon": lon,
                "tags": {"name": place["place_name"], "place": place["place_kind"]},
            }
        )
    return {"version": 0.6, "elements": elements}


@pytest.fixture
def overpass(shared_data) -> Iterator[tuple[str, int]]:
    body = json.dumps(_overpass_answer(shared_data)).encode()
    nodes = sum(
        1
        for e in json.loads(body)["elements"]
        if e["tags"]["place"] in {"village", "hamlet", "town", "city"}
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/interpreter", nodes
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("prefect_harness")
def test_live_run_loads_villages_and_marks_old_data_stale(
    argus_env, overpass, fake_ffs: FakeFfsServer, monkeypatch
):
    overpass_url, nodes = overpass
    monkeypatch.setenv("ARGUS_OVERPASS_URL", overpass_url)
    monkeypatch.setenv("ARGUS_CWC_BASE_URL", fake_ffs.url)

    result = CliRunner().invoke(app, ["run", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["mode"] == "live"
    # The fake serves a July 2026 poll, months before the cycle time: every
    # gauge is stale, so every village is unmonitored, never silently NORMAL.
    assert summary["villages_unmonitored"] == nodes
    assert sum(summary["villages_by_level"].values()) == 0
    assert summary["gauges_read"] == 0
    assert summary["quarantined_by_rule"]["expect_observation_not_stale"] > 0
    assert fake_ffs.state.requests_to("new-entry-data-aggregate")
