"""A tiny snapshot folder written by hand, with its truth known to the test.

Two stations report hourly from 2026-07-01 00:00 IST for 38 hours. A poll file
every six hours contains the last 12 hours of each series, named by its newest
record time, as CWC's recorded polls are. Two revisions are built in:

- station A's 20:00 reading is first published as 5.0 m (a datum slip that the
  range rule rejects) and corrected to its true value in the next poll;
- station B's 10:00 reading is first published 0.05 m low and revised in the
  next poll.

CWC's official forecasts for station A are in the 14:00 poll.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

START = datetime(2026, 7, 1, 0, 0)  # IST, as CWC writes it
HOURS = 38
POLL_EVERY_H = 6
CODE_A, CODE_B = "001-TESTA", "002-TESTB"
RAW_A = " 001-testa"  # CWC's spelling in the polls: lower case, a stray space
SLIP = (CODE_A, 20, 5.0)
FIRST_PUBLICATION = (CODE_B, 10, -0.05)
OFFICIAL_POLL_H = 14
OFFICIAL = [
    # (issued, valid, level [m]); ARGUS issue 10:00 lead 6, bucket of ceil(5.75) = 6
    ("2026-07-01T10:15:00", "2026-07-01T16:00:00", 51.0),
    # issue 10:00 lead 12, bucket 7-12
    ("2026-07-01T10:00:00", "2026-07-01T22:00:00", 51.5),
    # 30 h ahead: outside the 1..24 h of ARGUS's forecasts
    ("2026-07-01T10:00:00", "2026-07-02T16:00:00", 52.0),
    # valid at half past: no ARGUS forecast is valid then
    ("2026-07-01T10:00:00", "2026-07-01T16:30:00", 51.0),
    # 45 m below every level of the station: not a level of this gauge
    ("2026-07-01T10:00:00", "2026-07-01T18:00:00", 5.0),
]


def true_levels(n_hours: int = HOURS) -> dict[str, np.ndarray]:
    """The final (true) level of each station per hour [m]."""
    hours = np.arange(n_hours)
    return {
        CODE_A: np.round(50.0 + 0.04 * hours + 0.3 * np.sin(hours / 5.0), 2),
        CODE_B: np.round(30.0 + 0.5 * np.cos(hours / 7.0), 2),
    }


def poll_hours() -> list[int]:
    """Name hour (since START) of each poll file."""
    return list(range(2, HOURS, POLL_EVERY_H))


def published(poll_hour: int) -> dict[str, dict[int, float]]:
    """Values a poll file at ``poll_hour`` holds: the last 12 hours per station."""
    levels = true_levels(max(HOURS, poll_hour + 1))
    content = {}
    for code, series in levels.items():
        rows = {
            h: float(series[h]) for h in range(max(0, poll_hour - 11), poll_hour + 1)
        }
        content[code] = rows
    code, hour, value = SLIP
    if hour in content[code] and poll_hour < hour + POLL_EVERY_H:
        content[code][hour] = value
    code, hour, delta = FIRST_PUBLICATION
    if hour in content[code] and poll_hour < hour + POLL_EVERY_H:
        content[code][hour] = round(levels[code][hour] + delta, 2)
    return content


def write_folder(folder: Path) -> Path:
    """Write the poll files and the station file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for poll_hour in poll_hours():
        write_poll(folder, poll_hour)
    (folder / "stations.json").write_text(json.dumps(_stations()))
    return folder


def poll_name(poll_hour: int) -> str:
    """File name of the poll at ``poll_hour``."""
    return f"ffs_{START + timedelta(hours=poll_hour):%Y-%m-%dT%H%M}.json.gz"


def write_poll(folder: Path, poll_hour: int) -> Path:
    """Write one poll file; any hour works, also after ``HOURS``."""
    payload = _payload(published(poll_hour), START + timedelta(hours=poll_hour))
    path = folder / poll_name(poll_hour)
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    return path


def visible_value(code: str, hour: int, at_hour: int) -> float | None:
    """The value of ``code`` at ``hour`` as published by polls up to ``at_hour``.

    The slip is rejected by the contracts, so it is never visible as a level.
    """
    value = None
    for poll_hour in poll_hours():
        if poll_hour > at_hour:
            break
        value = published(poll_hour)[code].get(hour, value)
    if (code, hour, value) == SLIP:
        return None
    return value


def ist(text: str) -> pd.Timestamp:
    """A CWC time (IST, no offset) as a UTC timestamp."""
    return pd.Timestamp(text).tz_localize("Asia/Kolkata").tz_convert("UTC")


def hour_time(hour: int) -> pd.Timestamp:
    """UTC time of an hour counted from START."""
    return ist(START.isoformat()) + pd.Timedelta(hours=hour)


def _payload(content: dict[str, dict[int, float]], name_time: datetime) -> dict:
    series = {}
    latest = []
    for code, rows in content.items():
        raw = RAW_A if code == CODE_A else code
        series[raw] = [
            {
                "dataValue": value,
                "datatypeCode": "HHS",
                "id": {
                    "dataTime": f"{START + timedelta(hours=h):%Y-%m-%dT%H:%M:%S}",
                    "datatypeCode": "HHS",
                    "stationCode": raw,
                },
                "stationCode": raw,
            }
            for h, value in sorted(rows.items())
        ]
        last_hour = max(rows)
        latest.append(
            {
                "datatypeCode": "HHS",
                "id": {"datatypeCode": "HHS", "stationCode": raw},
                "latestDataTime": f"{START + timedelta(hours=last_hour):%Y-%m-%dT%H:%M:%S}",
                "latestDataValue": rows[last_hour],
                "stationCode": raw,
            }
        )
    forecasts = []
    if name_time == START + timedelta(hours=OFFICIAL_POLL_H):
        forecasts = [
            _official(issued, valid, level) for issued, valid, level in OFFICIAL
        ]
    return {
        "above_warning": [],
        "forecasts": forecasts,
        "latest_levels": latest,
        "reference_revision": "handmade",
        "series": series,
    }


def _official(issued: str, valid: str, level: float) -> dict:
    return {
        "datatypeCode": "HHS",
        "id": {
            "datatypeCode": "HHS",
            "forecastNo": 1,
            "forecastedDate": valid,
            "issuedDate": issued,
            "stationCode": RAW_A,
        },
        "realValue": level,
        "stationCode": RAW_A,
        "trend": "Rising",
    }


def _stations() -> dict:
    def record(lon, lat, warning, danger, highest):
        return {
            "coordinates": [lon, lat],
            "site_name": "Test",
            "river": "Test",
            "district": "Test",
            "warning_level_m": warning,
            "danger_level_m": danger,
            "highest_flood_level_m": highest,
            "highest_flood_level_date": "2000-07-01",
        }

    return {
        "stations": {
            CODE_A: record(91.0, 26.0, 55.0, 56.0, 57.0),
            CODE_B: record(92.0, 26.5, 33.0, 34.0, 35.0),
        }
    }
