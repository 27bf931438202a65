"""The satellite step of a cycle: ingest new flood-extent scenes once each.

A scene is identified by the SHA-256 of its file, so a product seen again (the
same folder on the next cycle, or the same file under a new name) is neither
read nor stored twice. A scene acquired after the cycle time is left for a
later cycle, so a replay reads only the scenes that existed at its time. A scene that
cannot be used is recorded as rejected with the reason, and the cycle goes on
with the other scenes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from argus.errors import InputError, SourceError
from argus.flood_extent import flooded_fraction_near
from argus.settings import Settings
from argus.sources import satellite as source
from argus.storage import satellite as scene_store
from argus.storage.db import session_scope
from argus.storage.source_tables import SatelliteScene
from argus.storage.villages import load_villages

logger = logging.getLogger(__name__)


@dataclass
class SatelliteReport:
    """Counts of one cycle's satellite step."""

    scenes_ingested: int = 0
    scenes_rejected: int = 0
    scenes_not_yet_acquired: int = 0
    observations_stored: int = 0
    failures: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def satellite_enabled(settings: Settings) -> bool:
    """Return whether a satellite folder or listing is configured."""
    return settings.satellite_dir is not None or bool(settings.satellite_url)


def find_products(settings: Settings) -> tuple[list[source.SceneProduct], list[str]]:
    """List the declared products of the folder and listing, and the problems."""
    products, problems = [], []
    if settings.satellite_dir is not None:
        try:
            found, issues = source.list_folder(settings.satellite_dir)
        except InputError as error:
            found, issues = [], [str(error)]
        products += found
        problems += issues
    if settings.satellite_url:
        try:
            found, issues = source.fetch_listing(
                settings.satellite_url,
                settings.home / "satellite_cache",
                timeout_s=settings.http_timeout_s,
            )
        except SourceError as error:
            found, issues = [], [str(error)]
        products += found
        problems += issues
    return products, problems


def ingest_scenes(
    engine: sa.Engine, *, settings: Settings, cycle_at: datetime
) -> SatelliteReport:
    """Ingest every new scene acquired by ``cycle_at``; see the module docstring."""
    report = SatelliteReport()
    if not satellite_enabled(settings):
        return report
    started = time.perf_counter()
    products, report.failures = find_products(settings)
    with session_scope(engine) as session:
        known = scene_store.known_digests(session)
        villages = load_villages(session)

    for product in products:
        if product.acquired_at > cycle_at:
            report.scenes_not_yet_acquired += 1
            continue
        digest = source.file_digest(product.path)
        if digest in known:
            continue
        known.add(digest)
        try:
            stored = _ingest_one(engine, product, digest, villages, settings=settings)
        except InputError as error:
            _record_rejected(engine, product, digest, reason=str(error))
            report.scenes_rejected += 1
            report.failures.append(str(error))
            continue
        report.scenes_ingested += 1
        report.observations_stored += stored

    report.stage_seconds["satellite"] = round(time.perf_counter() - started, 3)
    for failure in report.failures:
        logger.warning("satellite product skipped: %s", failure)
    logger.info(
        "satellite: %d scenes ingested, %d rejected, %d not yet acquired, "
        "%d village observations stored",
        report.scenes_ingested,
        report.scenes_rejected,
        report.scenes_not_yet_acquired,
        report.observations_stored,
    )
    return report


def _ingest_one(
    engine: sa.Engine,
    product: source.SceneProduct,
    digest: str,
    villages: pd.DataFrame,
    *,
    settings: Settings,
) -> int:
    grid = source.read_flood_grid(product)
    fractions = flooded_fraction_near(
        grid,
        villages["lon"].to_numpy(dtype="float64"),
        villages["lat"].to_numpy(dtype="float64"),
        radius_km=settings.satellite_radius_km,
    )
    fractions["village_id"] = villages["village_id"].to_numpy()
    fractions["radius_km"] = settings.satellite_radius_km
    # NOTE: villages loaded after this scene get no fraction from it, because a
    # scene is read once, by the digest of its bytes.
    if villages.empty:
        logger.warning("scene %s ingested with no villages loaded", product.name)
    with session_scope(engine) as session:
        scene_id = scene_store.record_scene(
            session,
            SatelliteScene(
                sha256=digest,
                name=product.name,
                origin=str(product.path),
                variable=product.variable,
                unit=product.unit,
                acquired_at=product.acquired_at,
                status="ingested",
                reprojected_from=grid.reprojected_from,
                villages=len(fractions),
            ),
        )
        stored = scene_store.store_observations(
            session, scene_id, fractions, acquired_at=product.acquired_at
        )
    logger.info(
        "scene %s acquired %s: flooded fraction known at %d of %d villages%s",
        product.name,
        product.acquired_at.isoformat(),
        int(fractions["flooded_fraction"].notna().sum()),
        len(fractions),
        f", reprojected from {grid.reprojected_from}" if grid.reprojected_from else "",
    )
    return stored


def _record_rejected(
    engine: sa.Engine, product: source.SceneProduct, digest: str, *, reason: str
) -> None:
    with session_scope(engine) as session:
        scene_store.record_scene(
            session,
            SatelliteScene(
                sha256=digest,
                name=product.name,
                origin=str(product.path),
                variable=product.variable,
                unit=product.unit,
                acquired_at=product.acquired_at,
                status="rejected",
                reason=reason,
            ),
        )
