"""The first recorded CWC polls, with one gauge renamed to a code never seen.

:func:`write_cut` copies the first :data:`POLLS` polls into a folder. With
``rename``, the gauge :data:`RENAMED_FROM` is written as :data:`RENAMED_RAW`
(lower case with a stray space, as CWC writes some codes), a code that the
station reference lacks. The first poll also gets three garbage gauges, each
a copy of another gauge's hourly series:

- :data:`EMPTY_CODE`, an empty code;
- :data:`NULL_CODE`, the word a serialiser writes for a missing value;
- :data:`OTHER_QUANTITY_CODE`, a plausible new code whose rows all carry the
  datatype ``HZS`` (not a river level).
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

POLLS = 4
RENAMED_FROM = "001-LBDJPG"
RENAMED_RAW = " 901-newgauge"
RENAMED = RENAMED_RAW.strip()
EMPTY_CODE = ""
NULL_CODE = "NULL"
OTHER_QUANTITY_CODE = "955-OTHERQ"
COPIED_SERIES = "002-MBDGHY"


def write_cut(snapshots: Path, folder: Path, *, rename: bool) -> dict[str, int]:
    """Write the cut into ``folder`` and return the rows added per garbage code."""
    folder.mkdir(parents=True, exist_ok=True)
    added: dict[str, int] = {}
    for number, path in enumerate(sorted(snapshots.glob("ffs_*.json.gz"))[:POLLS]):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        if rename:
            text = text.replace(f'"{RENAMED_FROM}"', json.dumps(RENAMED_RAW))
        payload = json.loads(text)
        if rename and number == 0:
            added = _add_garbage(payload)
        (folder / path.name).write_bytes(gzip.compress(json.dumps(payload).encode()))
    return added


def _add_garbage(payload: dict) -> dict[str, int]:
    rows = payload["series"][COPIED_SERIES]
    garbage = {EMPTY_CODE: "HHS", NULL_CODE: "HHS", OTHER_QUANTITY_CODE: "HZS"}
    for code, datatype in garbage.items():
        copied = copy.deepcopy(rows)
        for row in copied:
            row["stationCode"] = code
            row["id"]["stationCode"] = code
            row["datatypeCode"] = datatype
            row["id"]["datatypeCode"] = datatype
        payload["series"][code] = copied
    return {code: len(rows) for code in garbage}
