"""A local fake of the CWC FFS API for tests, on 127.0.0.1 with a free port.

It serves the reference tables from the recorded all-India CSVs (plus rows built
from ``stations_assam.json`` for the Assam codes the CSVs lack) and the
observation resources from ONE recorded snapshot file. ``specification`` queries
understand ``where``/``and``/``or`` with the operators ``eq``, ``gt`` and ``in``,
and answer 400 where the real API does (invalid JSON, ``in`` given a JSON list).

Failure modes are switched on per path with :meth:`FakeFfs.fail`; every request
is recorded with its start and end time, so tests can check the query form and
the number of requests in flight.

Use the fixture in another test module with
``from tests.fake_ffs import fake_ffs_server  # noqa: F401``.
"""

import functools
import gzip
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

DEFAULT_SNAPSHOT = "ffs_2026-07-30T1400.json.gz"
"""A poll with 151 latest levels, 82 series, 6 above warning, 6 forecasts."""

FAILURE_MODES = ("500", "hang", "html", "truncated", "not_utf8", "empty")
_TYPE_SUFFIX = "floodForecastStaticStationCode.type"


@dataclass
class RequestRecord:
    """One request the fake received."""

    path: str
    specification: str | None
    started: float
    ended: float = math.nan


@dataclass
class _Failure:
    path_part: str
    mode: str
    times: int


@dataclass
class FakeFfs:
    """State of the fake: its data, failure switches and request log."""

    tables: dict[str, list[dict[str, Any]]]
    above_warning: list[dict[str, Any]]
    delay_s: float = 0.0
    hang_s: float = 5.0
    requests: list[RequestRecord] = field(default_factory=list)
    base_url: str = ""
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def fail(self, path_part: str, mode: str, *, times: int = 10**6) -> None:
        """Answer the next ``times`` requests whose path contains ``path_part``
        with failure ``mode`` (one of :data:`FAILURE_MODES`)."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"failure mode {mode!r} unknown; use {FAILURE_MODES}")
        self._failures.append(_Failure(path_part, mode, times))

    def requests_to(self, path_part: str) -> list[RequestRecord]:
        """Recorded requests whose path contains ``path_part``."""
        return [r for r in self.requests if path_part in r.path]

    def max_in_flight(self, path_part: str = "") -> int:
        """Most requests (matching ``path_part``) that were served at once."""
        events = []
        for record in self.requests_to(path_part):
            events += [(record.started, 1), (record.ended, -1)]
        in_flight = peak = 0
        for _, step in sorted(events, key=lambda e: (e[0], e[1])):
            in_flight += step
            peak = max(peak, in_flight)
        return peak

    def take_failure(self, path: str) -> str | None:
        with self._lock:
            for failure in self._failures:
                if failure.path_part in path and failure.times > 0:
                    failure.times -= 1
                    return failure.mode
        return None


def load_fake_data(snapshot_file: Path, cwc_dir: Path) -> FakeFfs:
    """Build the fake's state from a snapshot and the recorded reference data.

    Parameters
    ----------
    snapshot_file : Path
        One ``ffs_*.json.gz`` (or ``.json``) poll.
    cwc_dir : Path
        The ``cwc_ffs`` folder with the CSVs and ``stations_assam.json``.
    """
    opener = gzip.open if snapshot_file.suffix == ".gz" else open
    with opener(snapshot_file, "rt", encoding="utf-8") as handle:
        snapshot = json.load(handle)
    static, geo = _reference_rows(cwc_dir)
    static, geo = [dict(row) for row in static], [dict(row) for row in geo]
    series = [row for rows in snapshot["series"].values() for row in rows]
    tables = {
        "flood-forecast-static": static,
        "layer-station-geo": geo,
        "new-entry-data-aggregate": snapshot["latest_levels"],
        "new-entry-data": series,
        "new-forecasted-entry-data": snapshot["forecasts"],
    }
    return FakeFfs(tables=tables, above_warning=snapshot["above_warning"])


@functools.cache
def _reference_rows(cwc_dir: Path) -> tuple[list[dict], list[dict]]:
    """The reference tables, read once per test session."""
    static = _csv_rows(cwc_dir / "stations_all_india_thresholds.csv")
    geo = _csv_rows(cwc_dir / "stations_all_india_coordinates.csv")
    known = {row["stationCode"] for row in static}
    assam = json.loads((cwc_dir / "stations_assam.json").read_text())["stations"]
    for code, entry in assam.items():
        if code not in known:
            static.append(_static_from_assam(code, entry))
            geo.append(_geo_from_assam(code, entry))
    return static, geo


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    frame = pd.read_csv(path).astype(object)
    frame = frame.where(frame.notna(), None)
    return frame.to_dict(orient="records")


def _static_from_assam(code: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "@class": "com.eptisa.dto.SimpleFloodForecastStaticDto",
        "stationCode": code,
        "type": entry["station_type"],
        "warningLevel": entry["warning_level_m"],
        "dangerLevel": entry["danger_level_m"],
        "highestFlowLevel": entry["highest_flood_level_m"],
        "highestFlowLevelDate": entry["highest_flood_level_date"],
    }


def _geo_from_assam(code: str, entry: dict[str, Any]) -> dict[str, Any]:
    lon, lat = entry["coordinates"]
    return {"stationCode": code, "name": entry["site_name"], "lat": lat, "lon": lon}


class _SpecError(ValueError):
    """A specification the real API answers with 400."""


def select_rows(
    rows: list[dict[str, Any]], specification: str, types: dict[str, str]
) -> list[dict[str, Any]]:
    """Rows matching a FFS ``specification`` (``(where and and) or or``)."""
    try:
        spec = json.loads(specification)
    except json.JSONDecodeError as error:
        raise _SpecError(f"invalid JSON: {error}") from error
    if not isinstance(spec, dict) or not set(spec) <= {"where", "and", "or"}:
        raise _SpecError("specification must be an object of where/and/or")
    clauses = {key: _clause(value) for key, value in spec.items()}

    def matches(row: dict[str, Any]) -> bool:
        both = all(
            _test(row, clauses[k], types) for k in ("where", "and") if k in clauses
        )
        return both or ("or" in clauses and _test(row, clauses["or"], types))

    return [row for row in rows if matches(row)]


def _clause(value: Any) -> tuple[str, str, str]:
    expression = value.get("expression") if isinstance(value, dict) else None
    if not isinstance(expression, dict):
        raise _SpecError("each clause needs an 'expression' object")
    name, operator = expression.get("fieldName"), expression.get("operator")
    wanted = expression.get("value")
    if operator not in ("eq", "gt", "in") or not isinstance(name, str):
        raise _SpecError(f"unsupported operator {operator!r} or field {name!r}")
    if not isinstance(wanted, str):
        raise _SpecError(f"value {wanted!r} must be a string")
    return name, operator, wanted


def _test(row: dict[str, Any], clause: tuple[str, str, str], types: dict) -> bool:
    name, operator, wanted = clause
    if name.endswith(_TYPE_SUFFIX):
        actual: Any = types.get(row.get("stationCode"))
    else:
        actual = row
        for part in name.split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
    if actual is None:
        return False
    if operator == "eq":
        return str(actual) == wanted
    if operator == "in":
        return str(actual) in wanted.split(",")
    return datetime.fromisoformat(str(actual)) > datetime.fromisoformat(wanted)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeFfs

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        spec = parse_qs(url.query).get("specification", [None])[0]
        record = RequestRecord(url.path, spec, time.monotonic())
        with self.fake._lock:
            self.fake.requests.append(record)
        try:
            self._answer(url.path, spec)
        finally:
            record.ended = time.monotonic()

    def _answer(self, path: str, spec: str | None) -> None:
        if self.fake.delay_s:
            time.sleep(self.fake.delay_s)
        mode = self.fake.take_failure(path)
        if mode == "hang":
            self.fake._stop.wait(self.fake.hang_s)
        elif mode is not None:
            self._send_failure(mode)
            return
        try:
            status, body = 200, json.dumps(self._rows(path, spec)).encode()
        except _SpecError as error:
            status, body = 400, json.dumps({"title": str(error)}).encode()
        except KeyError:
            status, body = 404, b'{"title": "Not Found"}'
        self._send(status, body, "application/json")

    def _rows(self, path: str, spec: str | None) -> list[dict[str, Any]]:
        if path == "/ffm/api/station-water-level-above-warning/":
            return self.fake.above_warning
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["iam", "api"]:
            raise KeyError(path)
        rows = self.fake.tables[parts[2]]
        if parts[3:] == ["specification"]:
            if spec is None:
                raise _SpecError("specification parameter missing")
            types = {
                r["stationCode"]: r["type"]
                for r in self.fake.tables["flood-forecast-static"]
            }
            return select_rows(rows, spec, types)
        if parts[3:]:
            raise KeyError(path)
        return rows

    def _send_failure(self, mode: str) -> None:
        bodies = {
            "500": (500, b'{"title": "Internal Server Error"}', "application/json"),
            "html": (200, b"<!doctype html><html><body>FFS</body></html>", "text/html"),
            "truncated": (
                200,
                b'[{"stationCode": "002-LBDJPG", "latestDa',
                "application/json",
            ),
            "not_utf8": (
                200,
                '[{"name": "Dhubri"}]'.encode("utf-16"),
                "application/json",
            ),
            "empty": (200, b"", "application/json"),
        }
        self._send(*bodies[mode])

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test); nothing to answer


@dataclass
class FakeFfsServer:
    """A running fake: ``url`` to point a client at, ``state`` to steer it."""

    url: str
    state: FakeFfs
    server: ThreadingHTTPServer
    thread: threading.Thread

    def close(self) -> None:
        self.state._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_fake_ffs(snapshot_file: Path, cwc_dir: Path) -> FakeFfsServer:
    """Start the fake on 127.0.0.1 with a free port; call ``close()`` after."""
    state = load_fake_data(snapshot_file, cwc_dir)
    handler = type("FakeFfsHandler", (_Handler,), {"fake": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    return FakeFfsServer(state.base_url, state, server, thread)


@pytest.fixture
def fake_ffs_server(shared_data: Path) -> Iterator[FakeFfsServer]:
    """The fake FFS serving :data:`DEFAULT_SNAPSHOT`."""
    cwc_dir = shared_data / "cwc_ffs"
    running = start_fake_ffs(cwc_dir / "snapshots" / DEFAULT_SNAPSHOT, cwc_dir)
    yield running
    running.close()


@pytest.fixture
def fake_ffs(fake_ffs_server: FakeFfsServer) -> FakeFfsServer:
    """The same running fake under the shorter name."""
    return fake_ffs_server
