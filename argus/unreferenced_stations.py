"""Gauges that report levels but are missing from the station reference table.

A poll can carry a gauge that the reference file or the live reference tables
lack: a new gauge, or one the reference does not list. Its readings still go
through the gauge contract. For each plausible new code the cycle adds a
placeholder station without name, river, position or reference levels, so the
rules that need a reference level do not apply to it and every other rule
does. A code with at least one accepted reading is then stored as a station
with threshold status :data:`NO_REFERENCE_STATUS`, and one warning names it
and the file or API table it came from.

A code of implausible form (empty, a word such as ``NULL``, characters that
CWC station codes never contain) gets no placeholder, so the contract rejects
its rows with ``expect_station_code_known``. A plausible code whose rows all
fail another rule is not stored either, and is judged again with its next
new reading.
"""

import logging
import re

import pandas as pd
from sqlmodel import Session

from argus.storage import observations as obs_store

logger = logging.getLogger(__name__)

NO_REFERENCE_STATUS = "no_reference"
"""``threshold_status`` of a station registered from its readings alone."""

# The 1,521 codes of CWC's all-India station list are 2 to 15 characters of
# letters, digits and the marks - _ ( ) : =, and start with a letter or digit.
# Codes here are normalised: upper case, without whitespace.
_PLAUSIBLE_CODE = re.compile(r"[A-Z0-9][A-Z0-9_():=-]{1,19}")
# Words that serialisers write for a missing value, never station codes.
_MISSING_VALUE_WORDS = frozenset({"NULL", "NONE", "NAN", "NIL", "UNDEFINED"})


def is_plausible_station_code(code: str) -> bool:
    """Tell whether a normalised code has the form of a CWC station code."""
    return (
        _PLAUSIBLE_CODE.fullmatch(code) is not None and code not in _MISSING_VALUE_WORDS
    )


def placeholder_stations(
    candidates: pd.DataFrame, stations: pd.DataFrame
) -> pd.DataFrame:
    """Build a station row without metadata for each plausible unreferenced code.

    Parameters
    ----------
    candidates
        Candidate observations: ``station_code`` (normalised),
        ``station_code_raw``, ``observed_at`` and ``source``.
    stations
        The stored station table; its codes are the referenced ones.

    Returns
    -------
    pandas.DataFrame
        One row per new code, with the columns of ``stations``: NaN reference
        levels and position, status :data:`NO_REFERENCE_STATUS`, and a
        ``threshold_note`` that names the file or table of the code's earliest
        candidate row.
    """
    codes = candidates["station_code"].astype(str)
    referenced = set(stations["station_code"].astype(str))
    plausible = pd.Series(
        [is_plausible_station_code(code) for code in codes],
        index=codes.index,
        dtype=bool,
    )
    unreferenced = ~codes.isin(referenced) & plausible
    rows = candidates[unreferenced].sort_values("observed_at", na_position="last")
    first = rows.drop_duplicates("station_code")

    placeholders = pd.DataFrame(
        {
            "station_code": first["station_code"].astype(str).to_numpy(),
            "station_code_raw": first["station_code_raw"].astype(str).to_numpy(),
            "threshold_status": NO_REFERENCE_STATUS,
            "threshold_note": [
                f"not in the station reference; first read in {source}"
                for source in first["source"]
            ],
            "source": first["source"].astype(str).to_numpy(),
        }
    )
    return placeholders.reindex(columns=[*stations.columns, "source"])


def register_accepted(
    session: Session, placeholders: pd.DataFrame, accepted: pd.DataFrame
) -> dict[str, str]:
    """Store the placeholder stations that have an accepted reading.

    Returns the file or table each one was first read in, keyed by the code as
    the source wrote it (stripped). Each one is logged as a warning once,
    because later cycles find it in the station table.
    """
    has_reading = placeholders["station_code"].isin(accepted["station_code"])
    admitted = placeholders[has_reading]
    if admitted.empty:
        return {}

    obs_store.upsert_stations(session, admitted.drop(columns="source"))
    for row in admitted.itertuples():
        logger.warning(
            "station %s, read in %s, is not in the station reference: "
            "registered without river, position or thresholds",
            row.station_code_raw.strip(),
            row.source,
        )
    raw_codes = admitted["station_code_raw"].str.strip()
    return dict(zip(raw_codes, admitted["source"], strict=True))
