"""Training table of the village flood-risk model: one row per revenue circle and month.

Outcomes are reported per revenue circle and month, but ARGUS predicts per
village and cycle. The model is therefore trained on circle-months and each
feature is defined so that one number means the same thing at both scales:

======================  =============================  ===========================
feature                 circle-month (training)        village-cycle (live)
======================  =============================  ===========================
level_above_danger_m    monthly maximum level at the   max(latest reading, highest
                        circle's CWC gauge minus its   p50 forecast within 24 h)
                        danger level [m]               minus the danger level of
                                                       the reference gauge [m]
rain_mm_30d             IMD monthly area-mean rain     rain of the last 30 days at
                        (``mean_rain`` x 625) [mm]     the village, when a rainfall
                                                       product exists, else NaN
flooded_fraction        Bhuvan share of the circle's   share of the cells within
                        pixels inundated at any time   ``satellite_radius_km``
                        in the month [0..1], NaN in    flooded in the newest
                        months without a layer         scene [0..1], NaN when no
                                                       scene is fresh enough
elevation_m, ...        the circle's static exposure   the village's circle's, and
                        (:mod:`argus.exposure`)        its own embankment distance
======================  =============================  ===========================

Label ``flooded``: population affected > 0 in the circle and month. The
monthly master table gives it for 2021-04..2023-08; the DRIMS monthly series
for 2023-09..2026-07; the ASDMA daily reports of 2026-07-25..27 add every
circle they list with affected people or villages to 2026-07. A circle-month
absent from DRIMS counts as not flooded, as the master table counts it.

NOTE: a month's maximum level and a village's level this hour are different
quantities: the model learns how the month's peak relates to the outcome and
is applied to the peak expected within the forecast horizon. Only 34 of
the 180 circles have a CWC gauge whose datum matches the circle's level
series. The others have the level feature missing in training.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from argus.errors import InputError
from argus.exposure import (
    CIRCLE_ATTRIBUTES,
    ExposureData,
    locate_circles,
    read_csv_columns,
)
from argus.stations import read_stations_file

logger = logging.getLogger(__name__)

FEATURES = (
    "month_of_year",
    "level_above_danger_m",
    "rain_mm_30d",
    "flooded_fraction",
    *CIRCLE_ATTRIBUTES,
)
# Features that a cycle often lacks: rain until a rainfall product is
# configured, the flooded fraction without a fresh satellite scene. Training
# also shows the model every row with both missing.
OPTIONAL_FEATURES = ("rain_mm_30d", "flooded_fraction")
# Features that no cycle computes yet, because no rainfall product is read.
RAIN_FEATURES = ("rain_mm_30d",)
TABLE_COLUMNS = (
    "object_id",
    "district",
    "period",
    "flooded",
    "label_source",
    *FEATURES,
)
FIRST_PERIOD = "2021-04"
LAST_PERIOD = "2026-07"
# IMD files store the area-mean rain of a month divided by this [mm].
IMD_MEAN_RAIN_TO_MM = 625.0
# A circle's level series and a gauge's danger level farther apart than this
# are on different datums or stations, and the pair is not used [m].
MAX_DATUM_GAP_M = 15.0
# Monthly maxima this far from the danger level are entry errors (one circle
# records 5,040 m) and are dropped [m].
LEVEL_ABOVE_DANGER_RANGE_M = (-30.0, 10.0)

MASTER_FILE = Path("revenue_circles/master_variables_monthly.csv")
DRIMS_FILE = Path("revenue_circles/monthly/drims_population_affected_monthly_rc.csv")
RAIN_FILE = Path("revenue_circles/monthly/imd_rainfall_monthly_rc.csv")
INUNDATION_FILE = Path("revenue_circles/monthly/bhuvan_inundation_monthly_rc.csv")
LEVEL_FILE = Path("revenue_circles/monthly/riverlevel_monthly_rc.csv")
STATIONS_FILE = Path("cwc_ffs/stations_assam.json")
ASDMA_GLOB = "asdma/reports_2026/asdma_*_extractor-v7-circles.csv"


def build_training_table(data_dir: Path | str, exposure: ExposureData) -> pd.DataFrame:
    """Build the circle-month table of features and outcomes.

    Parameters
    ----------
    data_dir
        Folder laid out like the recorded data (``revenue_circles/``,
        ``asdma/``, ``cwc_ffs/``).
    exposure
        Circles and their static attributes, from
        :func:`argus.exposure.load_exposure_data` on the same folder.

    Returns
    -------
    pandas.DataFrame
        Columns ``TABLE_COLUMNS``, one row per circle and month from
        ``FIRST_PERIOD`` to ``LAST_PERIOD``; ``period`` is ``YYYY-MM``.

    Raises
    ------
    InputError
        When a file is missing or lacks a column; the message names the file.
    """
    data_dir = Path(data_dir)
    circles = exposure.circles[["object_id", "district", *CIRCLE_ATTRIBUTES]]
    periods = pd.period_range(FIRST_PERIOD, LAST_PERIOD, freq="M").strftime("%Y-%m")
    table = circles.merge(pd.DataFrame({"period": periods}), how="cross")
    table = table.merge(_rain(data_dir), on=["object_id", "period"], how="left")
    table = table.merge(_inundation(data_dir), on=["object_id", "period"], how="left")
    levels = _level_above_danger(data_dir, exposure)
    table = table.merge(levels, on=["object_id", "period"], how="left")
    table = table.merge(_outcomes(data_dir, exposure), on=["object_id", "period"])
    table["month_of_year"] = table["period"].str[5:7].astype(int)
    logger.info(
        "training table: %d circle-months, %d flooded, level known in %d",
        len(table),
        int(table["flooded"].sum()),
        int(table["level_above_danger_m"].notna().sum()),
    )
    return table.loc[:, list(TABLE_COLUMNS)].reset_index(drop=True)


def _outcomes(data_dir: Path, exposure: ExposureData) -> pd.DataFrame:
    """``flooded`` and ``label_source`` for every circle and month."""
    master = _read(
        data_dir / MASTER_FILE, ("object_id", "timeperiod", "Population_affected_Total")
    )
    # The master table keys circles by the number at the end of object_id.
    suffix = {int(i[-5:]): i for i in exposure.circle_ids}
    master["object_id"] = pd.to_numeric(master["object_id"], errors="coerce").map(
        suffix
    )
    master["source"] = "master"
    drims = _read(
        data_dir / DRIMS_FILE, ("object_id", "timeperiod", "Population_affected_Total")
    )
    drims["source"] = "drims"
    last_master = master["timeperiod"].max()
    drims = drims[drims["timeperiod"] > last_master]
    reports = pd.concat([master, drims]).dropna(subset=["object_id"])
    reports["period"] = reports["timeperiod"].str.replace("_", "-")
    reports["flooded"] = reports["Population_affected_Total"] > 0
    reports = reports.groupby(["object_id", "period"], as_index=False).agg(
        flooded=("flooded", "max"), label_source=("source", "first")
    )
    asdma = _asdma_flooded(data_dir, exposure)
    periods = pd.period_range(FIRST_PERIOD, LAST_PERIOD, freq="M").strftime("%Y-%m")
    grid = pd.DataFrame({"object_id": exposure.circle_ids}).merge(
        pd.DataFrame({"period": periods}), how="cross"
    )
    grid = grid.merge(reports, how="left")
    default_source = np.where(
        grid["period"] <= last_master.replace("_", "-"), "master", "drims"
    )
    grid["label_source"] = grid["label_source"].where(
        grid["label_source"].notna(), default_source
    )
    grid["flooded"] = grid["flooded"].fillna(False).astype(bool)
    in_asdma = grid["object_id"].isin(asdma) & (grid["period"] == "2026-07")
    grid.loc[in_asdma & ~grid["flooded"], "label_source"] = "asdma"
    grid.loc[in_asdma, "flooded"] = True
    return grid


def _asdma_flooded(data_dir: Path, exposure: ExposureData) -> set[str]:
    """Circles that an ASDMA daily report of 2026 lists with people or villages affected."""
    paths = sorted(data_dir.glob(ASDMA_GLOB))
    if not paths:
        raise InputError(
            f"no ASDMA circle reports match {str(data_dir / ASDMA_GLOB)!r}"
        )
    columns = ("district", "revenue_circle", "affected_villages", "affected_population")
    reports = pd.concat([_read(p, columns, id_column=None) for p in paths])
    affected = reports[
        (reports["affected_population"] > 0) | (reports["affected_villages"] > 0)
    ]
    names = exposure.circles.assign(
        key=exposure.circles["revenue_circle"].map(_name_key),
        district_key=exposure.circles["district"].map(_name_key),
    )
    found, unmatched = set(), set()
    for row in affected.drop_duplicates(["district", "revenue_circle"]).itertuples():
        match = names[names["key"] == _name_key(row.revenue_circle)]
        if len(match) > 1:
            match = match[match["district_key"] == _name_key(row.district)]
        if len(match) == 1:
            found.add(match["object_id"].iloc[0])
        else:
            unmatched.add(f"{row.revenue_circle} ({row.district})")
    if unmatched:
        logger.warning(
            "ASDMA circles not matched to a circle polygon, left out: %s",
            ", ".join(sorted(unmatched)),
        )
    return found


def _name_key(name: object) -> str:
    """Normalise a circle or district name: no case, '(Pt)' marks, spaces or punctuation."""
    text = re.sub(r"\(pt\)", "", str(name).lower())
    return re.sub(r"[^a-z]", "", text)


def _rain(data_dir: Path) -> pd.DataFrame:
    rain = _read(data_dir / RAIN_FILE, ("object_id", "timeperiod", "mean_rain"))
    rain["rain_mm_30d"] = rain["mean_rain"] * IMD_MEAN_RAIN_TO_MM
    return _by_period(rain, "rain_mm_30d")


def _inundation(data_dir: Path) -> pd.DataFrame:
    layer = _read(
        data_dir / INUNDATION_FILE, ("object_id", "timeperiod", "inundation_pct")
    )
    # Despite its name the column is a share [0..1], count_inundated_pixels /
    # count_bhuvan_pixels. A pixel counts when inundated at least once in the
    # month.
    layer["flooded_fraction"] = layer["inundation_pct"]
    return _by_period(layer, "flooded_fraction")


def _level_above_danger(data_dir: Path, exposure: ExposureData) -> pd.DataFrame:
    """Monthly maximum level minus the danger level of the circle's gauge [m]."""
    levels = _read(
        data_dir / LEVEL_FILE,
        ("object_id", "timeperiod", "riverlevel_mean", "riverlevel_max"),
    )
    stations = read_stations_file(data_dir / STATIONS_FILE)
    stations = stations[stations["danger_level_m"].notna()].copy()
    stations["object_id"] = locate_circles(
        stations["lon"].to_numpy(float), stations["lat"].to_numpy(float), exposure
    )
    typical = levels.groupby("object_id")["riverlevel_mean"].median()
    danger = {}
    for object_id, group in stations.dropna(subset=["object_id"]).groupby("object_id"):
        if object_id not in typical.index:
            continue
        gap = (group["danger_level_m"] - typical[object_id]).abs()
        if gap.min() <= MAX_DATUM_GAP_M:
            danger[object_id] = float(group["danger_level_m"].iloc[gap.argmin()])
    levels["level_above_danger_m"] = levels["riverlevel_max"] - levels["object_id"].map(
        danger
    )
    low, high = LEVEL_ABOVE_DANGER_RANGE_M
    levels.loc[
        ~levels["level_above_danger_m"].between(low, high), "level_above_danger_m"
    ] = np.nan
    logger.info("level feature: %d circles have a gauge on the same datum", len(danger))
    return _by_period(levels, "level_above_danger_m")


def _by_period(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame = frame.dropna(subset=["timeperiod"])
    frame = frame[frame["timeperiod"].str.fullmatch(r"\d{4}_\d{2}")]
    frame = frame.assign(period=frame["timeperiod"].str.replace("_", "-"))
    return frame.groupby(["object_id", "period"], as_index=False)[column].max()


def _read(
    path: Path, columns: tuple[str, ...], *, id_column: str | None = "object_id"
) -> pd.DataFrame:
    """Read ``columns`` of a CSV file; the non-key ones become numbers.

    A repeated header row inside a file (the river level file has one) turns
    into NaN and then is dropped with the rows that lack a period.
    """
    frame = read_csv_columns(path, columns, dtype=str)
    keys = {"object_id", "timeperiod", "district", "revenue_circle"}
    for column in columns:
        if column not in keys:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if id_column is not None and "timeperiod" in frame:
        frame = frame.dropna(subset=["timeperiod"])
        frame = frame[frame["timeperiod"].str.fullmatch(r"\d{4}_\d{2}")]
    return frame
