"""Canonical variables of ARGUS: one name, meaning and unit for each quantity.

Connectors convert every source to these names and units at ingest, and column
names across the code base follow them. Units are written as UDUNITS strings
(``m``, ``h``, ``m h-1``, ``1`` for dimensionless). Levels are CWC reduced
levels: metres above mean sea level.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variable:
    """A canonical variable: its column name, meaning and unit."""

    name: str
    meaning: str
    unit: str


VARIABLES: tuple[Variable, ...] = (
    Variable("station_code", "CWC station code, stripped and upper-cased", "1"),
    Variable("observed_at", "time of an observation, timezone-aware UTC", "UTC time"),
    Variable(
        "level_m",
        "river level (CWC reduced level, datatype HHS) above mean sea level",
        "m",
    ),
    Variable(
        "warning_level_m",
        "CWC warning level: at or above it a station is at WARNING",
        "m",
    ),
    Variable(
        "danger_level_m",
        "CWC danger level: at or above it a station is at EMERGENCY",
        "m",
    ),
    Variable(
        "highest_flood_level_m",
        "highest level ever recorded at the station (CWC HFL)",
        "m",
    ),
    Variable("highest_flood_level_date", "date of the highest flood level", "date"),
    Variable("observed_peak_m", "highest level observed in one monsoon year", "m"),
    Variable("rate_m_per_h", "rate of change of the river level", "m h-1"),
    Variable("issued_at", "time a forecast was issued, timezone-aware UTC", "UTC time"),
    Variable(
        "valid_at", "time a forecast value is for, timezone-aware UTC", "UTC time"
    ),
    Variable("lead_time_h", "time from a forecast's issue to its valid time", "h"),
    Variable("p10_m", "10th percentile of a forecast level", "m"),
    Variable("p50_m", "median of a forecast level", "m"),
    Variable("p90_m", "90th percentile of a forecast level", "m"),
    Variable("rain_mm", "rainfall accumulated over the stated period", "mm"),
    Variable("flooded_fraction", "fraction of an area flooded (satellite)", "1"),
    Variable("lat", "latitude, WGS 84", "degrees_north"),
    Variable("lon", "longitude, WGS 84", "degrees_east"),
)

_BY_NAME = {variable.name: variable for variable in VARIABLES}


def variable(name: str) -> Variable:
    """Return the canonical variable called ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a canonical variable; the message lists the known names.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a canonical variable; known: {sorted(_BY_NAME)!r}. "
            "Add it to data_contracts.variables.VARIABLES with its unit"
        ) from None
