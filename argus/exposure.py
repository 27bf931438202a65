"""Static exposure of villages and revenue circles: the inputs of the risk model.

A data folder laid out like the recorded data (``geo/`` and
``revenue_circles/monthly/``) gives, per revenue circle (key ``object_id``,
e.g. ``"18-300-00101"``):

=====================  =====  ================================================
name                   unit   source and meaning
=====================  =====  ================================================
elevation_m            m      NASADEM mean elevation of the circle
river_distance_km      km     WRIS mean distance from the river (the file
                              stores metres, not the km of its dictionary)
no_sanitation_share    1      households without a sanitary latrine / all
                              households (Mission Antyodaya 2020 villages)
piped_water_share      1      households with piped water / all households
electricity_class      1      household-weighted mean of the survey's
                              domestic electricity category (1..5, more is
                              more hours a day)
embankment_km          km     median distance from points of a 1 km grid
                              inside the circle to the nearest embankment
=====================  =====  ================================================

A village gets its circle's values, except ``embankment_km``, which is the
distance from the village itself to the nearest embankment. Its circle is the
revenue-circle polygon that contains it (names are not compared: the same
circle is spelled several ways across sources). A village outside every
polygon gets NaN, which the risk model treats as missing.

NOTE: Mission Antyodaya villages carry no coordinates and there is no river
or elevation raster in the data, so the vulnerability, elevation and river
distance of a village are those of its whole revenue circle.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from argus.errors import InputError

logger = logging.getLogger(__name__)

CIRCLE_ATTRIBUTES = (
    "elevation_m",
    "river_distance_km",
    "no_sanitation_share",
    "piped_water_share",
    "electricity_class",
    "embankment_km",
)
EXPOSURE_COLUMNS = ("village_id", "object_id", *CIRCLE_ATTRIBUTES)
# Distances are measured in UTM zone 46N, the zone of most of Assam [m].
METRIC_CRS = "EPSG:32646"
# Spacing of the points an embankment line is cut into [m]; a distance to the
# line is then off by at most half of it.
EMBANKMENT_STEP_M = 100.0
# Spacing of the grid that samples a circle's area for its embankment distance [m].
CIRCLE_GRID_M = 1000.0

CIRCLES_FILE = Path("geo/assam_revenue_circles.geojson")
EMBANKMENTS_FILE = Path("geo/assam_embankments.geojson")
ELEVATION_FILE = Path("revenue_circles/monthly/nasadem_elevation_rc.csv")
RIVER_DISTANCE_FILE = Path("revenue_circles/monthly/wris_distance_from_river_rc.csv")
VULNERABILITY_FILE = Path(
    "revenue_circles/monthly/mission_antyodaya2020_village_vulnerability.csv"
)


@dataclass(frozen=True)
class ExposureData:
    """Revenue circles (polygons and attributes) and the embankment index."""

    circle_ids: np.ndarray
    circle_polygons: np.ndarray
    circles: pd.DataFrame
    embankment_tree: cKDTree


def load_exposure_data(data_dir: Path | str) -> ExposureData:
    """Read the circles, their attributes and the embankments of a data folder.

    Raises
    ------
    InputError
        When a file is missing, unreadable, or lacks a column or field; the
        message names the file.
    """
    data_dir = Path(data_dir)
    ids, polygons, names = read_circle_polygons(data_dir / CIRCLES_FILE)
    tree = read_embankments(data_dir / EMBANKMENTS_FILE)
    circles = names.merge(circle_statistics(data_dir), on="object_id", how="left")
    circles["embankment_km"] = _circle_embankment_km(polygons, tree)
    logger.info(
        "exposure data: %d circles, %d embankment points from %s",
        len(ids),
        tree.n,
        data_dir,
    )
    return ExposureData(ids, polygons, circles, tree)


def village_exposure(villages: pd.DataFrame, data: ExposureData) -> pd.DataFrame:
    """Exposure of every village: its circle's attributes, its own embankment distance.

    Parameters
    ----------
    villages
        Columns ``village_id``, ``lat``, ``lon`` [degrees, WGS84].

    Returns
    -------
    pandas.DataFrame
        Columns ``EXPOSURE_COLUMNS``, one row per village in input order;
        ``object_id`` None and attributes NaN outside every circle.
    """
    lon = villages["lon"].to_numpy(dtype="float64")
    lat = villages["lat"].to_numpy(dtype="float64")
    object_id = locate_circles(lon, lat, data)
    frame = pd.DataFrame({"village_id": villages["village_id"].astype(str).to_numpy()})
    frame["object_id"] = pd.Series(object_id, dtype=object)
    attributes = data.circles.set_index("object_id")
    for column in CIRCLE_ATTRIBUTES[:-1]:
        frame[column] = attributes[column].reindex(object_id).to_numpy(dtype="float64")
    frame["embankment_km"] = embankment_distance_km(lon, lat, data.embankment_tree)
    outside = int(frame["object_id"].isna().sum())
    if outside:
        logger.warning(
            "%d of %d villages lie outside every revenue circle; their circle "
            "attributes are missing (NaN)",
            outside,
            len(frame),
        )
    return frame


def locate_circles(lon: np.ndarray, lat: np.ndarray, data: ExposureData) -> np.ndarray:
    """``object_id`` of the circle containing each point, None outside all."""
    points = shapely.points(lon, lat)
    tree = shapely.STRtree(data.circle_polygons)
    point_index, circle_index = tree.query(points, predicate="within")
    result = np.full(len(points), None, dtype=object)
    # A point on a shared border falls in two circles; the first one wins.
    first = np.unique(point_index, return_index=True)[1]
    result[point_index[first]] = data.circle_ids[circle_index[first]]
    return result


def embankment_distance_km(
    lon: np.ndarray, lat: np.ndarray, tree: cKDTree
) -> np.ndarray:
    """Distance from each point [degrees] to the nearest embankment [km]."""
    x, y = _to_metric().transform(lon, lat)
    distance_m, _ = tree.query(np.column_stack([x, y]))
    distance_km = np.asarray(distance_m, dtype="float64") / 1000.0
    distance_km[~(np.isfinite(lon) & np.isfinite(lat))] = np.nan
    return distance_km


def read_circle_polygons(path: Path) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Ids, shapely polygons and names (``revenue_circle``, ``district``) of circles."""
    collection = _read_geojson(path)
    ids, polygons, rows = [], [], []
    for index, feature in enumerate(collection["features"]):
        try:
            properties = feature["properties"]
            object_id = str(properties["object_id"])
            polygon = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(
                f"{str(path)!r}: feature {index} lacks properties.object_id or a "
                f"valid geometry ({error!r}); repair the circles file"
            ) from error
        ids.append(object_id)
        polygons.append(polygon)
        rows.append(
            {
                "object_id": object_id,
                "revenue_circle": properties.get("revenue_ci"),
                "district": properties.get("dtname"),
            }
        )
    if not ids:
        raise InputError(f"{str(path)!r} has no revenue-circle features")
    return (
        np.array(ids, dtype=object),
        np.array(polygons, dtype=object),
        pd.DataFrame(rows),
    )


def read_embankments(path: Path) -> cKDTree:
    """Index of points every ``EMBANKMENT_STEP_M`` along the embankment lines.

    Coordinates are taken in the file's own CRS (its ``crs`` member, WGS84
    when absent) and projected to ``METRIC_CRS``.
    """
    collection = _read_geojson(path)
    crs_name = (collection.get("crs") or {}).get("properties", {}).get("name")
    try:
        source = CRS.from_user_input(crs_name or "EPSG:4326")
    except Exception as error:  # pyproj raises its own CRSError
        raise InputError(
            f"{str(path)!r}: unknown crs {crs_name!r} ({error})"
        ) from error
    lines = []
    for index, feature in enumerate(collection["features"]):
        try:
            geometry = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(
                f"{str(path)!r}: feature {index} has no valid geometry ({error!r})"
            ) from error
        lines.extend(getattr(geometry, "geoms", [geometry]))
    if not lines:
        raise InputError(f"{str(path)!r} has no embankment lines")
    transformer = Transformer.from_crs(source, METRIC_CRS, always_xy=True)
    projected = shapely.transform(
        np.array(lines, dtype=object),
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
    )
    dense = shapely.segmentize(projected, EMBANKMENT_STEP_M)
    return cKDTree(shapely.get_coordinates(dense))


def circle_statistics(data_dir: Path) -> pd.DataFrame:
    """Elevation, river distance and vulnerability per circle (``object_id``)."""
    elevation = _read_table(data_dir / ELEVATION_FILE, ("object_id", "elevation_mean"))
    river = _read_table(
        data_dir / RIVER_DISTANCE_FILE, ("object_id", "distance_from_river")
    )
    survey = _read_table(
        data_dir / VULNERABILITY_FILE,
        (
            "object_id",
            "total_hhd",
            "total_hhd_not_having_sanitary_latrines",
            "total_hhd_having_piped_water_connection",
            "availablility_hours_of_domestic_electricity",
        ),
    )
    survey["weighted_electricity"] = (
        survey["availablility_hours_of_domestic_electricity"] * survey["total_hhd"]
    )
    sums = survey.groupby("object_id")[
        [
            "total_hhd",
            "total_hhd_not_having_sanitary_latrines",
            "total_hhd_having_piped_water_connection",
            "weighted_electricity",
        ]
    ].sum()
    households = sums["total_hhd"].where(sums["total_hhd"] > 0)
    vulnerability = pd.DataFrame(
        {
            "no_sanitation_share": sums["total_hhd_not_having_sanitary_latrines"]
            / households,
            "piped_water_share": sums["total_hhd_having_piped_water_connection"]
            / households,
            "electricity_class": sums["weighted_electricity"] / households,
        }
    ).reset_index()
    frame = elevation.rename(columns={"elevation_mean": "elevation_m"})[
        ["object_id", "elevation_m"]
    ]
    river["river_distance_km"] = river["distance_from_river"] / 1000.0
    frame = frame.merge(river[["object_id", "river_distance_km"]], how="outer")
    return frame.merge(vulnerability, how="outer").drop_duplicates("object_id")


def _circle_embankment_km(polygons: np.ndarray, tree: cKDTree) -> np.ndarray:
    """Median embankment distance over a 1 km grid inside each circle [km]."""
    to_metric = _to_metric()
    to_degrees = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    medians = np.full(len(polygons), np.nan)
    for index, polygon in enumerate(polygons):
        xmin, ymin, xmax, ymax = shapely.bounds(
            shapely.transform(
                polygon,
                lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])),
            )
        )
        gx, gy = np.meshgrid(
            np.arange(xmin, xmax, CIRCLE_GRID_M), np.arange(ymin, ymax, CIRCLE_GRID_M)
        )
        lon, lat = to_degrees.transform(gx.ravel(), gy.ravel())
        inside = shapely.contains_xy(polygon, lon, lat)
        if not inside.any():
            # A circle smaller than the grid is sampled at its representative point.
            point = polygon.representative_point()
            lon, lat, inside = np.array([point.x]), np.array([point.y]), [True]
        distances = embankment_distance_km(lon[inside], lat[inside], tree)
        medians[index] = np.median(distances)
    return medians


def _to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def _read_geojson(path: Path) -> dict:
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputError(f"{str(path)!r} not found; pass the data folder") from error
    except (OSError, ValueError) as error:
        raise InputError(f"{str(path)!r} is not readable GeoJSON: {error}") from error
    if not isinstance(collection, dict) or not isinstance(
        collection.get("features"), list
    ):
        raise InputError(
            f"{str(path)!r} is not a GeoJSON FeatureCollection (no 'features' list)"
        )
    return collection


def read_csv_columns(
    path: Path, columns: tuple[str, ...], *, dtype: type | None = None
) -> pd.DataFrame:
    """Read ``columns`` of a CSV file; raises InputError naming the file and cause."""
    try:
        frame = pd.read_csv(path, dtype=dtype)
    except FileNotFoundError as error:
        raise InputError(f"{str(path)!r} not found; pass the data folder") from error
    except (OSError, ValueError) as error:
        raise InputError(
            f"{str(path)!r} is not a readable CSV file: {error}"
        ) from error
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{str(path)!r} lacks column(s) {missing!r}; expected {list(columns)!r}"
        )
    return frame.loc[:, list(columns)].copy()


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV file, checking that it has ``columns``."""
    frame = read_csv_columns(path, columns)
    for column in columns[1:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["object_id"] = frame["object_id"].astype(str)
    return frame
