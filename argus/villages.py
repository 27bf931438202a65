"""Village registries: the OpenStreetMap places file, a CSV file, the Overpass API.

Every reader returns a :class:`pandas.DataFrame` with the columns of
``VILLAGE_COLUMNS``: ``village_id`` (string, e.g. ``"node/245746325"``),
``name``, ``lat`` and ``lon`` [degrees, WGS84], ``district``, ``revenue_circle``
(None when unknown) and ``place_kind`` (OpenStreetMap ``place`` tag or None).

Place names from OpenStreetMap are under the ODbL: wherever they are shown, keep
the attribution ``OSM_ATTRIBUTION``.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from argus.errors import InputError, PayloadError, SourceUnavailable

logger = logging.getLogger(__name__)

VILLAGE_COLUMNS = (
    "village_id",
    "name",
    "lat",
    "lon",
    "district",
    "revenue_circle",
    "place_kind",
)
# OpenStreetMap place kinds that are settlements people are warned in; suburbs,
# quarters and isolated dwellings are parts of these or too small to list.
PLACE_KINDS = ("village", "hamlet", "town", "city")
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
OVERPASS_URL = "https://overpass-api.de/api/interpreter"
CSV_REQUIRED_COLUMNS = ("village_id", "name", "lat", "lon")
CSV_OPTIONAL_COLUMNS = ("district", "revenue_circle", "place_kind")


@dataclass(frozen=True)
class RowProblem:
    """One rejected line of a villages CSV file (line 1 is the header)."""

    line: int
    reason: str


@dataclass(frozen=True)
class VillagesCsv:
    """Result of :func:`read_villages_csv`: the good rows and the rejected lines."""

    path: Path
    villages: pd.DataFrame
    problems: list[RowProblem] = field(default_factory=list)

    def raise_for_problems(self) -> None:
        """Raise :class:`InputError` listing every rejected line, if any."""
        if not self.problems:
            return
        lines = "; ".join(f"line {p.line}: {p.reason}" for p in self.problems)
        raise InputError(
            f"{str(self.path)!r} has {len(self.problems)} invalid line(s): {lines}; "
            "fix these lines, or pass on the good rows knowingly"
        )


def read_osm_places(path: Path | str) -> pd.DataFrame:
    """Read the settlements of an OpenStreetMap places file.

    The file is the JSON object of ``data/geo/assam_osm_places.json``: a list
    ``places`` whose items carry ``osm_id``, ``place_name``, ``place_kind``,
    ``centre`` ([lon, lat] in degrees), ``district`` and ``revenue_circle``. Only
    the kinds in ``PLACE_KINDS`` are kept.

    Parameters
    ----------
    path
        The places file.

    Returns
    -------
    pandas.DataFrame
        One row per place, columns ``VILLAGE_COLUMNS``.

    Raises
    ------
    InputError
        When the file cannot be read, is not such a JSON object, or has a place
        without a usable id, name or centre, or a repeated id.
    """
    places = _load_places(Path(path))
    kept = [
        p for p in places if isinstance(p, dict) and p.get("place_kind") in PLACE_KINDS
    ]
    for index, place in enumerate(places):
        if isinstance(place, dict) and place.get("place_kind") in PLACE_KINDS:
            _check_place(place, index=index, source=str(path))
    try:
        frame = pd.DataFrame(
            {
                "village_id": [str(p["osm_id"]) for p in kept],
                "name": [p["place_name"] for p in kept],
                "lat": [float(p["centre"][1]) for p in kept],
                "lon": [float(p["centre"][0]) for p in kept],
                "district": [p.get("district") for p in kept],
                "revenue_circle": [p.get("revenue_circle") for p in kept],
                "place_kind": [p["place_kind"] for p in kept],
            }
        )
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise InputError(
            f"{str(path)!r}: a place lacks osm_id, place_name or a [lon, lat] "
            f"centre ({error!r}); repair or re-export the places file"
        ) from error
    _check_frame(frame, source=str(path))
    logger.info("read %d places of kinds %s from %s", len(frame), PLACE_KINDS, path)
    return frame


def read_village_file(path: Path) -> VillagesCsv:
    """Read villages from a CSV file, or else from an OSM places JSON file.

    Raises
    ------
    InputError
        If ``path`` is not a file (or is unreadable, as the readers raise).
    """
    if not path.is_file():
        raise InputError(f"villages file {str(path)!r} not found")
    if path.suffix.lower() == ".csv":
        return read_villages_csv(path)
    return VillagesCsv(path=path, villages=read_osm_places(path))


def read_villages_csv(path: Path | str) -> VillagesCsv:
    """Read a villages CSV file, keeping the good rows and listing the bad lines.

    Columns ``village_id``, ``name``, ``lat``, ``lon`` [degrees] are required;
    ``district``, ``revenue_circle`` and ``place_kind`` are optional (empty means
    None). A line is rejected, with its line number (the header is line 1) and
    the reason, when a field count is wrong, a required field is empty, a
    coordinate is not a number or out of range, or its ``village_id`` repeats an
    earlier line. The reader never raises for bad rows: the caller decides
    whether to stop (:meth:`VillagesCsv.raise_for_problems`) or to go on with
    the good rows and report the rest.

    Parameters
    ----------
    path
        The CSV file (UTF-8, comma-separated, header on the first line).

    Returns
    -------
    VillagesCsv
        ``villages`` (columns ``VILLAGE_COLUMNS``) and ``problems``.

    Raises
    ------
    InputError
        When the file cannot be read or the header lacks a required column.
    """
    path = Path(path)
    header, records, problems = _read_csv_records(path)
    frame = pd.DataFrame([r[1] for r in records], columns=header, dtype=object)
    frame.insert(0, "_line", [r[0] for r in records])
    for column in CSV_OPTIONAL_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame, rejected = _validate_rows(frame)
    problems = sorted(problems + rejected, key=lambda p: p.line)
    for problem in problems:
        logger.info("%s line %d rejected: %s", path, problem.line, problem.reason)
    villages = frame.loc[:, list(VILLAGE_COLUMNS)].reset_index(drop=True)
    logger.info(
        "read %d villages from %s, %d lines rejected",
        len(villages),
        path,
        len(problems),
    )
    return VillagesCsv(path=path, villages=villages, problems=problems)


def overpass_query(region: str, *, timeout_s: float = 180) -> str:
    """Overpass QL for the settlement nodes inside a state (admin_level 4) area.

    ``region`` is matched on the area's ``name`` tag in title case, so
    ``"assam"`` becomes ``"Assam"``.

    Raises
    ------
    InputError
        When the region is empty or contains a quote or backslash.
    """
    name = region.strip().title()
    if not name or any(ch in name for ch in "\"'\\"):
        raise InputError(
            f"region {region!r} is not a usable area name; give a state name such "
            "as 'assam', without quotes"
        )
    kinds = "|".join(PLACE_KINDS)
    return (
        f"[out:json][timeout:{int(timeout_s)}];"
        f'area["name"="{name}"]["admin_level"="4"]->.s;'
        f'node["place"~"^({kinds})$"](area.s);out body;'
    )


def fetch_overpass(
    region: str, *, url: str = OVERPASS_URL, timeout_s: float = 180
) -> pd.DataFrame:
    """Fetch the settlements of a state from an Overpass API endpoint.

    One POST with the query of :func:`overpass_query` in the form field
    ``data``. Public Overpass servers limit heavy use: call this when the
    village registry is refreshed, never every cycle.

    Parameters
    ----------
    region
        State name, any case (``"assam"``).
    url
        Overpass interpreter endpoint.
    timeout_s
        Timeout of the request and of the query on the server [s].

    Returns
    -------
    pandas.DataFrame
        As :func:`parse_overpass`.

    Raises
    ------
    SourceUnavailable
        On connection failure, timeout, HTTP 429 or 5xx; ``source`` is the URL.
    PayloadError
        On another HTTP error, a body that is not JSON, or a response without
        places.
    """
    query = overpass_query(region, timeout_s=timeout_s)
    try:
        response = httpx.post(url, data={"data": query}, timeout=timeout_s)
    except httpx.TransportError as error:
        raise SourceUnavailable(
            url, f"request failed: {error!r}; retry later"
        ) from error
    logger.info(
        "overpass %s returned HTTP %d, %d bytes",
        url,
        response.status_code,
        len(response.content),
    )
    _check_status(url, response)
    try:
        payload = response.json()
    except ValueError as error:
        raise PayloadError(
            url, f"answer is not JSON (starts {response.text[:80]!r}); check the URL"
        ) from error
    frame = parse_overpass(payload, source=url)
    if frame.empty:
        raise PayloadError(
            url, f"no settlements found for region {region!r}; check the state name"
        )
    return frame


def parse_overpass(
    payload: dict[str, Any], *, source: str = "overpass"
) -> pd.DataFrame:
    """Convert an Overpass JSON response to villages.

    Nodes with a ``place`` tag in ``PLACE_KINDS`` and a ``name`` tag are kept;
    other elements are skipped and counted in the log. ``district`` and
    ``revenue_circle`` are None: place nodes do not carry them.

    Raises
    ------
    PayloadError
        When the payload has no ``elements`` list, the server reports a runtime
        error, or a kept node has no valid id or coordinates.
    """
    elements = payload.get("elements") if isinstance(payload, dict) else None
    if not isinstance(elements, list):
        raise PayloadError(
            source, f"no 'elements' list in the answer {str(payload)[:80]!r}"
        )
    remark = payload.get("remark")
    if isinstance(remark, str) and "error" in remark.lower():
        raise PayloadError(
            source, f"the server reports {remark!r}; retry with a longer timeout"
        )
    nodes = [e for e in elements if _is_named_place(e)]
    if len(nodes) < len(elements):
        logger.info(
            "%s: skipped %d elements that are not named settlement nodes",
            source,
            len(elements) - len(nodes),
        )
    try:
        frame = _nodes_frame(nodes)
        _check_frame(frame, source=source)
    except (KeyError, TypeError, ValueError, InputError) as error:
        raise PayloadError(source, f"a place node is malformed: {error}") from error
    return frame


def _nodes_frame(nodes: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_id": [f"node/{int(n['id'])}" for n in nodes],
            "name": [n["tags"]["name"] for n in nodes],
            "lat": np.array([n["lat"] for n in nodes], dtype="float64"),
            "lon": np.array([n["lon"] for n in nodes], dtype="float64"),
            "district": pd.Series([None] * len(nodes), dtype=object),
            "revenue_circle": pd.Series([None] * len(nodes), dtype=object),
            "place_kind": [n["tags"]["place"] for n in nodes],
        },
        columns=list(VILLAGE_COLUMNS),
    )


def _is_named_place(element: Any) -> bool:
    if not isinstance(element, dict) or element.get("type") != "node":
        return False
    tags = element.get("tags")
    return (
        isinstance(tags, dict)
        and tags.get("place") in PLACE_KINDS
        and bool(tags.get("name"))
    )


def _check_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise SourceUnavailable(
            url, f"HTTP {status}; the server is busy or down, retry later"
        )
    if status >= 400:
        raise PayloadError(
            url, f"HTTP {status}: {response.text[:120]!r}; check the query and URL"
        )


def _check_place(place: dict[str, Any], *, index: int, source: str) -> None:
    """Raise InputError naming the place when its id, name or centre is unusable."""
    osm_id, name, centre = (
        place.get("osm_id"),
        place.get("place_name"),
        place.get("centre"),
    )
    problem = None
    if not isinstance(osm_id, str | int) or isinstance(osm_id, bool) or not str(osm_id):
        problem = f"osm_id {osm_id!r} is not an id"
    elif not isinstance(name, str) or not name.strip():
        problem = f"place_name {name!r} is not a name"
    elif not (
        isinstance(centre, list)
        and len(centre) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in centre)
    ):
        problem = f"centre {centre!r} is not [lon, lat] in degrees"
    if problem:
        raise InputError(
            f"{source!r}: place {index} ({osm_id!r}): {problem}; the whole file is "
            "rejected so that a broken export is noticed: repair or re-export it"
        )


def _load_places(path: Path) -> list[Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read places file {str(path)!r}: {error}") from error
    places = document.get("places") if isinstance(document, dict) else None
    if not isinstance(places, list):
        raise InputError(
            f"{str(path)!r} has no 'places' list; expected an OpenStreetMap places "
            "export: an object whose 'places' items carry osm_id, place_name, "
            "place_kind and centre"
        )
    return places


def _check_frame(frame: pd.DataFrame, *, source: str) -> None:
    bad = ~_valid_coordinates(frame["lat"], frame["lon"])
    if bad.any():
        ids = frame.loc[bad, "village_id"].tolist()[:5]
        raise InputError(
            f"{source}: {int(bad.sum())} place(s) with invalid coordinates, "
            f"e.g. {ids!r}; latitude must lie in -90..90, longitude in -180..180"
        )
    repeated = frame["village_id"].duplicated()
    if repeated.any():
        ids = frame.loc[repeated, "village_id"].tolist()[:5]
        raise InputError(f"{source}: repeated place id(s) {ids!r}; ids must be unique")


def _valid_coordinates(lat: pd.Series, lon: pd.Series) -> pd.Series:
    return lat.between(-90.0, 90.0) & lon.between(-180.0, 180.0)


def _read_csv_records(
    path: Path,
) -> tuple[list[str], list[tuple[int, list[str]]], list[RowProblem]]:
    try:
        # utf-8-sig also reads the byte-order mark that spreadsheet programs write.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            _check_header(path, header)
            records, problems = [], []
            first_line = reader.line_num + 1
            for row in reader:
                if len(row) == len(header):
                    records.append((first_line, row))
                elif any(cell.strip() for cell in row):
                    reason = f"expected {len(header)} fields, found {len(row)}"
                    problems.append(RowProblem(first_line, reason))
                first_line = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"cannot read villages file {str(path)!r}: {error}") from error
    return header, records, problems


def _check_header(path: Path, header: list[str]) -> None:
    missing = [c for c in CSV_REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{str(path)!r} header {header!r} lacks column(s) {missing!r}; the "
            f"header must name {CSV_REQUIRED_COLUMNS!r}"
        )


def _validate_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    for column in frame.columns.drop("_line"):
        text = frame[column].astype("string").str.strip()
        frame[column] = text.astype(object).where(text.fillna("") != "", None)
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    checks = {
        "empty village_id": frame["village_id"].isna(),
        "empty name": frame["name"].isna(),
        "lat is not a number": lat.isna(),
        "lon is not a number": lon.isna(),
        "lat outside -90..90": lat.notna() & ~lat.between(-90.0, 90.0),
        "lon outside -180..180": lon.notna() & ~lon.between(-180.0, 180.0),
    }
    bad = pd.Series(False, index=frame.index)
    problems = []
    for reason, mask in checks.items():
        problems += _problems(frame.loc[mask], reason)
        bad |= mask
    repeated = frame["village_id"].where(~bad).duplicated() & ~bad
    problems += _problems(frame.loc[repeated], "village_id repeats an earlier line")
    good = frame.loc[~(bad | repeated)].copy()
    good["lat"], good["lon"] = lat[good.index], lon[good.index]
    return good, problems


def _problems(rows: pd.DataFrame, reason: str) -> list[RowProblem]:
    return [
        RowProblem(
            int(line), f"{reason} (village_id={vid!r}, lat={lat!r}, lon={lon!r})"
        )
        for line, vid, lat, lon in zip(
            rows["_line"], rows["village_id"], rows["lat"], rows["lon"]
        )
    ]
