"""Satellite flood-extent products: find them, read their declaration, load them.

A product is a single-band GeoTIFF. It declares its variable, unit and
acquisition time either in a sidecar JSON file next to it (``NAME.json`` or
``NAME.tif.json``)::

    {"variable": "flooded_percent", "unit": "percent",
     "acquired_at": "2023-07-07T18:00+05:30"}

or through a name that follows the NRSC Bhuvan flood-inundation layers,
``bhuvan_inundation_<state>_<YYYY>_<DD>_<MM>_<HH>.tif`` (percent of each cell
flooded). Products come from a folder (``ARGUS_SATELLITE_DIR``) or from an HTTP
listing (``ARGUS_SATELLITE_URL``): a JSON document
``{"products": [{"href": ..., "variable": ..., "unit": ..., "acquired_at": ...}]}``
whose ``href`` values are resolved against the listing's URL and downloaded to
a cache folder.

Every problem with one product raises :class:`~argus.errors.InputError` naming
the file and the cause, so the caller can record the rejection and go on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np
import rasterio
import rioxarray
from rasterio.enums import Resampling
from rasterio.errors import RasterioError

from argus.errors import InputError, PayloadError, SourceUnavailable

logger = logging.getLogger(__name__)

IST = timezone(timedelta(hours=5, minutes=30), "IST")
TARGET_CRS = "EPSG:4326"
RASTER_SUFFIXES = (".tif", ".tiff")

# Declared (variable, unit) pairs and the factor that turns a value into the
# canonical ``flooded_fraction`` [1].
FRACTION_SCALE = {
    ("flooded_percent", "percent"): 0.01,
    ("flooded_percent", "%"): 0.01,
    ("flooded_fraction", "1"): 1.0,
}
_BHUVAN_NAME = re.compile(
    r"^bhuvan_inundation_[a-z]+_(\d{4})_(\d{2})_(\d{2})_(\d{2})\.tiff?$"
)


@dataclass(frozen=True)
class SceneProduct:
    """A raster file with its declared variable, unit and acquisition time."""

    path: Path
    name: str
    variable: str
    unit: str
    acquired_at: datetime

    @property
    def scale(self) -> float:
        """Factor from a stored value to a flooded fraction [1]."""
        return FRACTION_SCALE[(self.variable, self.unit)]


@dataclass
class FloodGrid:
    """A flood-extent raster on a regular longitude-latitude grid (EPSG:4326).

    ``values`` keeps the file's own type and codes; a cell is valid when it is
    not ``nodata``, is finite and lies in ``[0, 1 / scale]``.
    """

    values: np.ndarray
    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nodata: float | None
    scale: float
    reprojected_from: str | None = None

    def valid_mask(self, values: np.ndarray) -> np.ndarray:
        """Mark the cells of ``values`` that carry a usable flood value."""
        top = 1.0 / self.scale + 1e-9
        if np.issubdtype(values.dtype, np.integer):
            # Integer codes (the Bhuvan layers are uint8) need no float copy.
            valid = (values >= 0) & (values <= math.floor(top))
        else:
            with np.errstate(invalid="ignore"):
                valid = np.isfinite(values) & (values >= 0) & (values <= top)
        if self.nodata is not None:
            valid &= values != self.nodata
        return valid


def declare_product(path: Path) -> SceneProduct:
    """Read the declaration of ``path`` from its sidecar file or its name.

    Raises
    ------
    InputError
        When neither declares the product, or the declaration is invalid.
    """
    for sidecar in (path.with_suffix(".json"), path.with_name(path.name + ".json")):
        if sidecar.is_file():
            return _from_sidecar(path, sidecar)
    match = _BHUVAN_NAME.match(path.name)
    if match is None:
        raise InputError(
            f"satellite product {str(path)!r} has no sidecar {path.stem}.json and "
            "its name does not follow bhuvan_inundation_<state>_<YYYY>_<DD>_<MM>_<HH>"
            ".tif; add a sidecar with variable, unit and acquired_at"
        )
    year, day, month, hour = (int(part) for part in match.groups())
    try:
        # NOTE: the Bhuvan layer names carry no time zone; the hour is taken as
        # IST, the time of the Indian agencies that publish them.
        acquired_at = datetime(year, month, day, hour, tzinfo=IST)
    except ValueError as error:
        raise InputError(
            f"satellite product {str(path)!r}: the name's date is invalid ({error})"
        ) from error
    return SceneProduct(path, path.name, "flooded_percent", "percent", acquired_at)


def _from_sidecar(path: Path, sidecar: Path) -> SceneProduct:
    try:
        declared = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            f"sidecar {str(sidecar)!r} is not readable JSON: {error}"
        ) from error
    if not isinstance(declared, dict):
        raise InputError(f"sidecar {str(sidecar)!r} must hold a JSON object")
    return product_from_declaration(path, declared, where=str(sidecar))


def product_from_declaration(
    path: Path, declared: dict, *, where: str, name: str | None = None
) -> SceneProduct:
    """Check a declaration's variable, unit and acquisition time.

    Raises
    ------
    InputError
        Naming ``where`` when a key is missing or a value is not supported.
    """
    missing = [k for k in ("variable", "unit", "acquired_at") if k not in declared]
    if missing:
        raise InputError(f"{where}: missing key(s) {missing!r}")
    variable, unit = str(declared["variable"]), str(declared["unit"])
    if (variable, unit) not in FRACTION_SCALE:
        raise InputError(
            f"{where}: variable {variable!r} in unit {unit!r} is not supported; "
            f"expected one of {sorted(FRACTION_SCALE)!r}"
        )
    try:
        acquired_at = datetime.fromisoformat(str(declared["acquired_at"]))
    except ValueError as error:
        raise InputError(
            f"{where}: acquired_at {declared['acquired_at']!r} is not ISO 8601"
        ) from error
    if acquired_at.tzinfo is None:
        raise InputError(
            f"{where}: acquired_at {declared['acquired_at']!r} has no time zone; "
            "add an offset such as +05:30"
        )
    return SceneProduct(path, name or path.name, variable, unit, acquired_at)


def list_folder(folder: Path) -> tuple[list[SceneProduct], list[str]]:
    """Declared products of a folder, and the problems of those that are not."""
    if not folder.is_dir():
        raise InputError(f"satellite folder {str(folder)!r} not found")
    products, problems = [], []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in RASTER_SUFFIXES or not path.is_file():
            continue
        try:
            products.append(declare_product(path))
        except InputError as error:
            problems.append(str(error))
    return products, problems


def fetch_listing(
    url: str, cache: Path, *, timeout_s: float
) -> tuple[list[SceneProduct], list[str]]:
    """Download the products of an HTTP listing that are not in ``cache`` yet.

    Raises
    ------
    SourceUnavailable
        When the listing cannot be fetched.
    PayloadError
        When the listing is not the expected JSON document.
    """
    cache.mkdir(parents=True, exist_ok=True)
    products, problems = [], []
    with httpx.Client(timeout=timeout_s, follow_redirects=True) as client:
        entries = _listing_entries(client, url)
        for entry in entries:
            href = str(entry.get("href", ""))
            where = f"satellite listing {url!r} entry {href!r}"
            try:
                product = _download(client, url, entry, cache, where=where)
            except InputError as error:
                problems.append(str(error))
                continue
            products.append(product)
    return products, problems


def _listing_entries(client: httpx.Client, url: str) -> list[dict]:
    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise SourceUnavailable("satellite", f"listing {url!r}: {error}") from error
    try:
        entries = response.json()["products"]
    except (ValueError, KeyError, TypeError) as error:
        raise PayloadError(
            "satellite",
            f"listing {url!r} is not a JSON object with a 'products' list",
        ) from error
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PayloadError(
            "satellite", f"listing {url!r}: 'products' is not a list of objects"
        )
    return entries


def _download(
    client: httpx.Client, url: str, entry: dict, cache: Path, *, where: str
) -> SceneProduct:
    href = str(entry.get("href", ""))
    name = Path(httpx.URL(href).path).name
    if not name or Path(name).suffix.lower() not in RASTER_SUFFIXES:
        raise InputError(f"{where}: href names no .tif file")
    target = cache / name
    product = product_from_declaration(target, entry, where=where)
    if not target.is_file():
        try:
            response = client.get(httpx.URL(url).join(href))
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise InputError(f"{where}: download failed: {error}") from error
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(response.content)
        partial.replace(target)
    return product


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a scene."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_flood_grid(product: SceneProduct) -> FloodGrid:
    """Load a product as a :class:`FloodGrid`, reprojected to EPSG:4326 if needed.

    Raises
    ------
    InputError
        Naming the file: empty, not a readable GeoTIFF, more than one band, no
        coordinate reference system, a rotated grid, or a failed reprojection.
    """
    where = f"satellite product {str(product.path)!r}"
    if product.path.stat().st_size == 0:
        raise InputError(f"{where} is an empty file")
    try:
        raster = rioxarray.open_rasterio(product.path)
        count = raster.sizes.get("band", 1)
        crs = raster.rio.crs
    except (RasterioError, OSError, ValueError) as error:
        raise InputError(f"{where} is not a readable GeoTIFF: {error}") from error
    if count != 1:
        raise InputError(f"{where} has {count} bands; expected a single band")
    if crs is None:
        raise InputError(
            f"{where} has no coordinate reference system, so its cells cannot be "
            "placed; write the CRS into the file"
        )
    reprojected_from = None
    if crs != rasterio.crs.CRS.from_string(TARGET_CRS):
        reprojected_from = crs.to_string()
        raster = _reproject(raster, where=where)
    transform = raster.rio.transform()
    if transform.b != 0 or transform.d != 0:
        raise InputError(f"{where} has a rotated grid; expected north-up cells")
    try:
        values = raster.to_numpy()[0]
    except (RasterioError, OSError) as error:
        raise InputError(f"{where}: cells could not be read: {error}") from error
    return FloodGrid(
        values=values,
        lon0=transform.c,
        lat0=transform.f,
        dlon=transform.a,
        dlat=transform.e,
        nodata=raster.rio.nodata,
        scale=product.scale,
        reprojected_from=reprojected_from,
    )


def _reproject(raster, *, where: str):
    nodata = raster.rio.nodata
    if nodata is None:
        raise InputError(
            f"{where} is in {raster.rio.crs.to_string()} and declares no nodata "
            "value, so cells outside the source after reprojection to "
            f"{TARGET_CRS} would read as dry; declare nodata or deliver {TARGET_CRS}"
        )
    try:
        return raster.rio.reproject(
            TARGET_CRS, resampling=Resampling.nearest, nodata=nodata
        )
    except (RasterioError, ValueError) as error:
        raise InputError(
            f"{where}: reprojection from {raster.rio.crs.to_string()} to "
            f"{TARGET_CRS} failed: {error}"
        ) from error
