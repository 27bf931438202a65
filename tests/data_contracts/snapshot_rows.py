"""Flatten recorded CWC FFS snapshots into the frames the data contracts read.

A test helper only: the production parser lives with the CWC connector, and these
tests must not depend on it. Codes are normalised the way the connector does it
(strip, upper case, no spaces around the dash); CWC times are IST without offset.
"""

import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from argus.sources.cwc_payload import OBSERVATION_COLUMNS

IST = "Asia/Kolkata"
SNAPSHOT_NAME = re.compile(r"ffs_(\d{4}-\d{2}-\d{2}T\d{4})(?:_\d+)?\.json\.gz$")


def normalise_code(raw: str) -> str:
    """Return a CWC station code stripped, upper-cased, without spaces at the dash."""
    return re.sub(r"\s*-\s*", "-", str(raw).strip().upper())


def snapshot_time(path: Path) -> datetime:
    """Return the UTC time a snapshot became visible: its file name time (IST)."""
    match = SNAPSHOT_NAME.search(path.name)
    if match is None:
        raise ValueError(f"not a snapshot file name: {path.name!r}")
    stamp = pd.Timestamp(datetime.strptime(match.group(1), "%Y-%m-%dT%H%M"))
    return stamp.tz_localize(IST).tz_convert("UTC").to_pydatetime()


def _frame(records: list[tuple[str, object, object, object, str]]) -> pd.DataFrame:
    raw = pd.DataFrame(records, columns=["code", "time", "value", "datatype", "source"])
    times = pd.to_datetime(raw["time"], format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    return pd.DataFrame(
        {
            "station_code": raw["code"].map(normalise_code),
            "station_code_raw": raw["code"].astype(str),
            "observed_at": times.dt.tz_localize(IST).dt.tz_convert("UTC"),
            "observed_at_raw": raw["time"].astype(str),
            "level_m": pd.to_numeric(raw["value"], errors="coerce").astype(float),
            "level_raw": raw["value"].astype(str),
            "datatype": raw["datatype"].astype(str),
            "source": raw["source"],
        },
        columns=OBSERVATION_COLUMNS,
    )


def read_snapshot(path: Path) -> pd.DataFrame:
    """Flatten one snapshot's ``series`` and ``latest_levels`` rows, in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        document = json.load(stream)
    records = [
        (code, row["id"]["dataTime"], row["dataValue"], row["datatypeCode"], "series")
        for code, rows in document["series"].items()
        for row in rows
    ]
    records += [
        (
            row["stationCode"],
            row["latestDataTime"],
            row["latestDataValue"],
            row["datatypeCode"],
            "latest_levels",
        )
        for row in document["latest_levels"]
    ]
    return _frame(records)


def read_stations(path: Path) -> pd.DataFrame:
    """Flatten ``stations_assam.json`` into the stations frame."""
    stations = json.loads(path.read_text(encoding="utf-8"))["stations"]
    rows = [
        {
            "station_code": normalise_code(code),
            "station_code_raw": code,
            "name": entry.get("site_name"),
            "river": entry.get("river"),
            "lat": entry["coordinates"][1],
            "lon": entry["coordinates"][0],
            "district": entry.get("district"),
            "revenue_circle": entry.get("revenue_circle"),
            "warning_level_m": entry.get("warning_level_m"),
            "danger_level_m": entry.get("danger_level_m"),
            "highest_flood_level_m": entry.get("highest_flood_level_m"),
            "highest_flood_level_date": entry.get("highest_flood_level_date"),
        }
        for code, entry in stations.items()
    ]
    frame = pd.DataFrame(rows)
    for column in ("warning_level_m", "danger_level_m", "highest_flood_level_m"):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame
