"""Revenue circles ARGUS put at WARNING or above, against the reported ones.

A circle counts as warned when at least one of its villages had a stored
level of WARNING or EMERGENCY at any issue hour of the check window. A circle
counts as affected when the ASDMA daily report lists affected villages or
people in it, or when the DRIMS monthly figures give it people affected in
the month of the report. The village registry, the ASDMA reports and the
DRIMS tables share no circle id, so circles are matched by name
(:class:`CircleIndex`).

Probability of detection = hits / (hits + misses); false alarm ratio =
false alarms / (hits + false alarms) (WMO/WWRP verification terms).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from argus.errors import InputError
from argus.sources.cwc_payload import IST

CAVEATS = [
    (
        "The window is two days of hourly levels; the ASDMA report is one day's "
        "administrative count and DRIMS is a whole month, so a circle affected "
        "later in the month is a miss that no two-day forecast could catch."
    ),
    (
        "Reports count flooding from rain, embankment breaches and tributaries; "
        "ARGUS sees only the rivers at its CWC gauges, so circles without a gauge "
        "within reach of their villages can only be missed."
    ),
    (
        "Circles are matched by name, in either spelling of the circle file or "
        "with o and a treated as one vowel; names that match no circle are "
        "listed and still compared by name between the registry and the reports."
    ),
    (
        "A village registry that covers only part of a circle's villages can "
        "leave a warned river unseen in that circle."
    ),
]


@dataclass(frozen=True)
class CircleReports:
    """Files of the revenue-circle check.

    ``circles`` is the GeoJSON of revenue circles (properties ``object_id``,
    ``revenue_ci``, ``revenue_cr``), ``asdma`` the per-circle CSV of one
    ASDMA daily report, ``drims`` the DRIMS population-affected monthly CSV.
    """

    circles: Path
    asdma: Path
    drims: Path


def normalise_circle(name: object) -> str:
    """Return a circle name in lower case, without "(Pt)" and punctuation."""
    text = re.sub(r"\(\s*pt\.?\s*\)", " ", str(name).lower())
    return re.sub(r"[^a-z0-9]+", "", text)


def fold_vowels(normalised: str) -> str:
    """Return a normalised circle name with every "o" written as "a".

    Romanised Assamese writes the inherent vowel either way, so one circle
    appears as Bengtal and Bengtol, Marigaon and Morigaon, Rangjuli and
    Rongjuli in the circle file, the village registry and the DRIMS tables.
    """
    return normalised.replace("o", "a")


@dataclass(frozen=True)
class CircleIndex:
    """Names of the circles of the circle file, and the spellings they match.

    A circle's name is its normalised ``revenue_ci``. A name from another
    source matches a circle when its normalised form equals the circle's
    ``revenue_ci`` or ``revenue_cr``, because the file gives two spellings
    for 19 circles (Baksa and Baska, for one). Failing that, it matches a
    circle that has the same spelling after :func:`fold_vowels`, unless
    another circle folds to that spelling too.
    """

    names_by_id: dict[str, str]
    names_by_spelling: dict[str, str]
    names_by_folded_spelling: dict[str, str]

    def circle_of(self, name: object) -> str:
        """Return the circle that ``name`` matches, else the normalised name."""
        normalised = normalise_circle(name)
        if normalised in self.names_by_spelling:
            return self.names_by_spelling[normalised]
        return self.names_by_folded_spelling.get(fold_vowels(normalised), normalised)

    def circle_names(self) -> set[str]:
        """Return the names of every circle of the file."""
        return set(self.names_by_id.values())


def report_window(reports: CircleReports) -> tuple[date, date]:
    """Return the check window: the ASDMA report's date and the day after."""
    asdma = _read_csv(reports.asdma, ["report_date", "revenue_circle"])
    dates = pd.to_datetime(asdma["report_date"], errors="coerce").dropna()
    if dates.empty:
        raise InputError(f"ASDMA file {str(reports.asdma)!r} has no valid report_date")
    first = dates.max().date()
    return first, first + timedelta(days=1)


def window_bounds(window: tuple[date, date]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last whole IST hour of the window's days, in UTC."""
    start = pd.Timestamp(window[0]).tz_localize(IST)
    end = pd.Timestamp(window[1]).tz_localize(IST) + pd.Timedelta(hours=23)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def check_circles(
    at_risk: pd.DataFrame,
    villages: pd.DataFrame,
    reports: CircleReports,
    *,
    window: tuple[date, date],
    issue_hours_in_window: int,
) -> dict:
    """Compare warned circles with the ASDMA and DRIMS affected circles.

    Parameters
    ----------
    at_risk
        village_id, issued_at of villages at WARNING or above in the window.
    villages
        The registry: village_id, revenue_circle.
    reports
        The circle, ASDMA and DRIMS files.
    window
        First and last day (IST) of the check.
    issue_hours_in_window
        Issue hours of the backtest inside the window (48 when it covers both
        days); with none, no circle can be warned.
    """
    index = read_circle_index(reports.circles)
    registry = villages.set_index("village_id")["revenue_circle"]
    circle_of = registry.map(index.circle_of, na_action="ignore")
    warned = set(circle_of.reindex(at_risk["village_id"].unique()).dropna()) - {""}
    with_villages = set(circle_of.dropna()) - {""}
    asdma_names = _asdma_affected(reports.asdma)
    asdma = {index.circle_of(name) for name in asdma_names}
    drims = _drims_affected(reports.drims, index.names_by_id, month=window[0])
    known = index.circle_names()

    result = {
        "window_ist": [window[0].isoformat(), window[1].isoformat()],
        "issue_hours_in_window": issue_hours_in_window,
        "circles_warned": sorted(warned),
        "circles_with_villages": len(with_villages),
        "against": {
            "asdma": _contingency(warned, asdma, with_villages),
            "drims": _contingency(warned, drims, with_villages),
            "asdma_or_drims": _contingency(warned, asdma | drims, with_villages),
        },
        "names_not_in_circle_file": {
            "villages": sorted(with_villages - known),
            "asdma": sorted(asdma - known),
        },
        "names_matched_by_other_spelling": {
            "villages": _respelled(registry.dropna().unique(), index),
            "asdma": _respelled(asdma_names, index),
        },
        "caveats": CAVEATS,
    }
    return result


def _contingency(warned: set[str], affected: set[str], with_villages: set[str]):
    hits = warned & affected
    misses = affected - warned
    false_alarms = warned - affected
    return {
        "affected": len(affected),
        "affected_with_villages": len(affected & with_villages),
        "hits": len(hits),
        "misses": len(misses),
        "false_alarms": len(false_alarms),
        "probability_of_detection": _ratio(len(hits), len(affected)),
        "false_alarm_ratio": _ratio(len(false_alarms), len(warned)),
        "hit_circles": sorted(hits),
        "false_alarm_circles": sorted(false_alarms),
    }


def _asdma_affected(path: Path) -> set[str]:
    frame = _read_csv(
        path,
        ["report_date", "revenue_circle", "affected_villages", "affected_population"],
    )
    latest = frame[frame["report_date"] == frame["report_date"].max()]
    villages = pd.to_numeric(latest["affected_villages"], errors="coerce").fillna(0)
    people = pd.to_numeric(latest["affected_population"], errors="coerce").fillna(0)
    affected = latest.loc[(villages > 0) | (people > 0), "revenue_circle"]
    return set(affected.dropna())


def _drims_affected(path: Path, known: dict[str, str], *, month: date) -> set[str]:
    frame = _read_csv(path, ["object_id", "Population_affected_Total", "timeperiod"])
    period = f"{month.year}_{month.month:02d}"
    rows = frame[frame["timeperiod"].astype(str) == period]
    people = pd.to_numeric(rows["Population_affected_Total"], errors="coerce")
    ids = rows.loc[people > 0, "object_id"].astype(str)
    return {known[i] for i in ids if i in known}


def read_circle_index(path: Path) -> CircleIndex:
    """Read the circle names and spellings of the GeoJSON's features."""
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        properties = [feature["properties"] for feature in features]
        circles = [
            (str(p["object_id"]), p["revenue_ci"], p.get("revenue_cr"))
            for p in properties
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"revenue-circle file {str(path)!r} is not a GeoJSON of circles with "
            f"object_id and revenue_ci properties: {error!r}"
        ) from error

    names_by_id = {object_id: normalise_circle(main) for object_id, main, _ in circles}
    # A circle's own revenue_ci spelling wins over another circle's revenue_cr.
    spellings = {name: name for name in names_by_id.values()}
    folded: dict[str, set[str]] = {}
    for object_id, main_spelling, other_spelling in circles:
        name = names_by_id[object_id]
        for spelling in (main_spelling, other_spelling or main_spelling):
            normalised = normalise_circle(spelling)
            spellings.setdefault(normalised, name)
            folded.setdefault(fold_vowels(normalised), set()).add(name)
    unambiguous = {key: names.pop() for key, names in folded.items() if len(names) == 1}
    return CircleIndex(names_by_id, spellings, unambiguous)


def _respelled(names, index: CircleIndex) -> dict[str, str]:
    """Map each name that matched a circle spelled otherwise to that circle."""
    matched = {str(name): index.circle_of(name) for name in names}
    return {
        name: circle
        for name, circle in sorted(matched.items())
        if circle != normalise_circle(name)
    }


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {str(path)!r}: {error}") from error
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{str(path)!r} lacks the column(s) {', '.join(missing)}; "
            f"expected at least {', '.join(columns)}"
        )
    return frame


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None
