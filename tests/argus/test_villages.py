"""Village registry readers: OSM places file, CSV, Overpass API."""

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import pytest

from argus.errors import InputError, PayloadError, SourceUnavailable
from argus.villages import (
    VILLAGE_COLUMNS,
    fetch_overpass,
    parse_overpass,
    read_osm_places,
    read_villages_csv,
)

OVERPASS_ANSWER = {
    "version": 0.6,
    "elements": [
        {
            "type": "node",
            "id": 245746325,
            "lat": 26.32578,
            "lon": 91.00757,
            "tags": {"name": "Barpeta", "place": "city", "name:as": "বৰপেটা"},
        },
        {
            "type": "node",
            "id": 11,
            "lat": 26.1,
            "lon": 91.7,
            "tags": {"name": "Kalapahar", "place": "hamlet"},
        },
        {
            "type": "node",
            "id": 12,
            "lat": 26.2,
            "lon": 91.8,
            "tags": {"place": "village"},
        },
        {
            "type": "node",
            "id": 13,
            "lat": 26.2,
            "lon": 91.8,
            "tags": {"name": "S", "place": "suburb"},
        },
        {"type": "way", "id": 14, "tags": {"name": "W", "place": "village"}},
    ],
}


class _FakeOverpass(BaseHTTPRequestHandler):
    queries: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.queries.append(parse_qs(body)["data"][0])
        answers = {
            "/ok": (200, "application/json", json.dumps(OVERPASS_ANSWER)),
            "/empty": (200, "application/json", json.dumps({"elements": []})),
            "/busy": (504, "text/plain", "Gateway Timeout"),
            "/html": (200, "text/html", "<html>rate limited</html>"),
            "/bad": (400, "text/plain", "parse error: line 1"),
        }
        status, kind, text = answers[self.path]
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def overpass_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOverpass)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "villages.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_osm_places_keeps_the_1534_settlements(shared_data: Path) -> None:
    places = read_osm_places(shared_data / "geo" / "assam_osm_places.json")

    assert tuple(places.columns) == VILLAGE_COLUMNS
    assert len(places) == 1534
    assert places["place_kind"].value_counts().to_dict() == {
        "hamlet": 904,
        "village": 498,
        "town": 121,
        "city": 11,
    }
    assert places["village_id"].is_unique
    barpeta = places.iloc[0]
    assert barpeta["village_id"] == "node/245746325"
    assert (barpeta["lat"], barpeta["lon"]) == (26.32578, 91.00757)
    assert (barpeta["district"], barpeta["revenue_circle"]) == ("Barpeta", "Barpeta")


def test_read_osm_places_rejects_a_file_without_places(tmp_path: Path) -> None:
    path = tmp_path / "places.json"
    path.write_text('{"elements": []}', encoding="utf-8")

    with pytest.raises(InputError, match="has no 'places' list"):
        read_osm_places(path)


def test_read_osm_places_rejects_a_bad_centre(tmp_path: Path) -> None:
    place = {"osm_id": "node/1", "place_name": "X", "place_kind": "village"}
    path = tmp_path / "places.json"
    path.write_text(json.dumps({"places": [place | {"centre": [91.0, 95.0]}]}))

    with pytest.raises(InputError, match=r"invalid coordinates, e.g. \['node/1'\]"):
        read_osm_places(path)


def test_read_villages_csv_names_bad_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "village_id,name,lat,lon,district,revenue_circle\n"
        "v1,Alpha,26.1,91.7,Kamrup,Guwahati\n"
        "v2,,26.1,91.7,,\n"
        "v3,Gamma,abc,91.7,,\n"
        "v1,Delta,26.2,91.8,,\n"
        "v5,Eps,95,91.8,,\n"
        'v6,"Two\nlines",26.3,91.9,X,\n'
        "v7,Too,1,2,3,4,5\n"
        " v8 ,  Theta ,26.4, 92.0 , ,\n",
    )

    read = read_villages_csv(path)

    assert read.villages["village_id"].tolist() == ["v1", "v6", "v8"]
    assert read.villages.loc[2, ["name", "lat", "district"]].tolist() == [
        "Theta",
        26.4,
        None,
    ]
    assert [(p.line, p.reason.split(" (")[0]) for p in read.problems] == [
        (3, "empty name"),
        (4, "lat is not a number"),
        (5, "village_id repeats an earlier line"),
        (6, "lat outside -90..90"),
        (9, "expected 6 fields, found 7"),
    ]


def test_raise_for_problems_lists_every_bad_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "village_id,name,lat,lon\nv1,A,1,2\nv2,B,,2\nv3,C,1,200\n")

    read = read_villages_csv(path)

    assert len(read.villages) == 1
    with pytest.raises(
        InputError,
        match=r"2 invalid line\(s\): line 3: lat is not.*line 4: lon outside",
    ):
        read.raise_for_problems()


def test_read_villages_csv_without_a_required_column_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, "village_id,name,latitude,lon\nv1,A,1,2\n")

    with pytest.raises(InputError, match=r"lacks column\(s\) \['lat'\]"):
        read_villages_csv(path)


def test_parse_overpass_keeps_named_settlement_nodes() -> None:
    villages = parse_overpass(OVERPASS_ANSWER)

    assert villages["village_id"].tolist() == ["node/245746325", "node/11"]
    assert villages.loc[0, ["name", "lat", "lon", "place_kind"]].tolist() == [
        "Barpeta",
        26.32578,
        91.00757,
        "city",
    ]
    assert villages["district"].isna().all()
    assert villages["revenue_circle"].isna().all()


def test_parse_overpass_rejects_an_answer_without_elements() -> None:
    with pytest.raises(PayloadError, match="no 'elements' list"):
        parse_overpass({"remark": "nothing"})


def test_fetch_overpass_posts_the_state_query(overpass_url: str) -> None:
    villages = fetch_overpass("assam", url=f"{overpass_url}/ok", timeout_s=5)

    assert len(villages) == 2
    query = _FakeOverpass.queries[-1]
    assert 'area["name"="Assam"]["admin_level"="4"]' in query
    assert "[timeout:5]" in query


def test_fetch_overpass_5xx_is_source_unavailable(overpass_url: str) -> None:
    with pytest.raises(SourceUnavailable, match=r"/busy: HTTP 504"):
        fetch_overpass("assam", url=f"{overpass_url}/busy", timeout_s=5)


def test_fetch_overpass_non_json_is_payload_error(overpass_url: str) -> None:
    with pytest.raises(PayloadError, match=r"not JSON \(starts '<html>rate"):
        fetch_overpass("assam", url=f"{overpass_url}/html", timeout_s=5)


def test_fetch_overpass_4xx_is_payload_error(overpass_url: str) -> None:
    with pytest.raises(PayloadError, match="HTTP 400"):
        fetch_overpass("assam", url=f"{overpass_url}/bad", timeout_s=5)


def test_fetch_overpass_without_places_is_payload_error(overpass_url: str) -> None:
    with pytest.raises(PayloadError, match="no settlements found for region 'asam'"):
        fetch_overpass("asam", url=f"{overpass_url}/empty", timeout_s=5)


def test_fetch_overpass_closed_port_is_source_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/interpreter"

    with pytest.raises(
        SourceUnavailable, match=rf"127.0.0.1:{port}/api/interpreter: request failed"
    ):
        fetch_overpass("assam", url=url, timeout_s=2)


def test_fetch_overpass_rejects_a_quoted_region() -> None:
    with pytest.raises(InputError, match="not a usable area name"):
        fetch_overpass('Assam"]; node(1); out;', url="http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("place", "message"),
    [
        (
            {"osm_id": "node/1", "place_name": None, "centre": [91.0, 26.0]},
            "place_name",
        ),
        ({"osm_id": {"a": 1}, "place_name": "X", "centre": [91.0, 26.0]}, "osm_id"),
        ({"osm_id": "node/1", "place_name": "X", "centre": [True, 26.0]}, "centre"),
        ({"osm_id": "node/1", "place_name": "", "centre": [91.0, 26.0]}, "place_name"),
    ],
)
def test_read_osm_places_names_the_bad_place(tmp_path: Path, place, message) -> None:
    good = {"osm_id": "node/2", "place_name": "Y", "centre": [91.1, 26.1]}
    document = {
        "places": [good | {"place_kind": "village"}, place | {"place_kind": "hamlet"}]
    }
    path = tmp_path / "places.json"
    path.write_text(json.dumps(document))

    with pytest.raises(InputError, match=rf"place 1 .*{message}"):
        read_osm_places(path)
