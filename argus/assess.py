"""Forecast every gauge and decide every village's level for one cycle."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from argus import storm
from argus.alert_rules import AlertPolicy
from argus.compute import dask_client
from argus.features import build_features
from argus.reference_gauges import assign_reference_gauges
from argus.risk import apply_risk
from argus.settings import Settings
from argus.storage import alerts as alert_store
from argus.storage import forecasts as forecast_store
from argus.storage import observations as obs_store
from argus.storage.db import session_scope
from argus.storage.village_sources import store_village_sources
from argus.storage.villages import load_villages
from argus.trust import apply_evidence
from argus.village_sources import source_evidence, village_sources
from models.baseline import summarise_gauges
from models.fallback_levels import apply_fallback
from models.serving import serving_forecaster
from models.village_levels import decide_levels

logger = logging.getLogger(__name__)

LEVELS = ("NORMAL", "WATCH", "WARNING", "EMERGENCY")
SOURCES = ("gauge", "satellite", "camera", "citizen")
FORECAST_HISTORY = timedelta(days=3)
THRESHOLD_COLUMNS = ["warning_level_m", "danger_level_m", "highest_flood_level_m"]


@dataclass
class VillageAssessment:
    """Levels of all villages in one cycle and the changes that call for alerts."""

    villages_by_level: dict[str, int] = field(default_factory=dict)
    villages_unmonitored: int = 0
    villages_degraded: int = 0
    villages_by_source: dict[str, int] = field(default_factory=dict)
    at_risk_unmonitored: list[str] = field(default_factory=list)
    changes: list[alert_store.LevelChange] = field(default_factory=list)
    reminders: int = 0
    level_moves_without_message: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)


def accepted_history(engine: sa.Engine, *, until: datetime, span: timedelta):
    """Accepted levels in ``(until - span, until]``: nothing after the cycle time."""
    with session_scope(engine) as session:
        history = obs_store.load_accepted_history(session, until - span, as_of=until)
    return history[history["observed_at"] <= until].reset_index(drop=True)


def history_span(forecaster) -> timedelta:
    """Accepted history a forecaster needs: its ``history_h``, at least 3 days."""
    needed = timedelta(hours=getattr(forecaster, "history_h", 0))
    return max(FORECAST_HISTORY, needed)


def issue_forecasts(engine: sa.Engine, forecaster, *, cycle_at: datetime):
    """Run ``forecaster`` on the accepted history and the station table."""
    history = accepted_history(engine, until=cycle_at, span=history_span(forecaster))
    with session_scope(engine) as session:
        stations = obs_store.load_stations(session)
    return forecaster.predict(history, issued_at=cycle_at, stations=stations)


def forecast_gauges(
    engine: sa.Engine, *, cycle_at: datetime, settings: Settings
) -> int:
    """Issue and store the 1..24 h forecasts of every gauge; returns rows stored.

    The forecaster is the one :func:`models.serving.serving_forecaster` serves.
    """
    forecaster = serving_forecaster(settings)
    forecasts = issue_forecasts(engine, forecaster, cycle_at=cycle_at)
    with session_scope(engine) as session:
        stored = forecast_store.store_forecasts(session, forecasts)
    logger.info(
        "issued forecasts for %d gauges at %s (%d rows stored)",
        forecasts["station_code"].nunique() if len(forecasts) else 0,
        cycle_at.isoformat(),
        stored,
    )
    return stored


def assess_villages(
    engine: sa.Engine, *, cycle_at: datetime, settings: Settings
) -> VillageAssessment:
    """Compute the features of all villages on Dask and decide their levels."""
    with session_scope(engine) as session:
        villages = load_villages(session)
        stations = obs_store.load_stations(session)
        forecasts = forecast_store.load_forecasts(session, cycle_at)
    history = accepted_history(engine, until=cycle_at, span=FORECAST_HISTORY)

    references = assign_reference_gauges(
        villages, stations, max_distance_km=settings.reference_gauge_max_distance_km
    )
    villages_ref = villages.drop(
        columns=[c for c in villages.columns if c.startswith("reference_")]
    ).merge(references, on="village_id", how="left")
    with session_scope(engine) as session:
        sources = village_sources(
            session, villages_ref, cycle_at=cycle_at, settings=settings
        )
    gauges = summarise_gauges(
        history, stations[["station_code", *THRESHOLD_COLUMNS]], now=cycle_at
    )
    stage_seconds = {}
    with dask_client(settings.dask_address or None):
        started = time.perf_counter()
        features = build_features(
            villages_ref,
            gauges,
            forecasts,
            now=cycle_at,
            max_age_h=settings.gauge_max_age_h,
            village_sources=sources,
        )
        stage_seconds["features"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        levels = apply_fallback(decide_levels(features), features)
        stage_seconds["decide"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        levels = apply_risk(
            engine, levels, features, cycle_at=cycle_at, settings=settings
        )
        stage_seconds["risk"] = round(time.perf_counter() - started, 3)

    assessment = _record_levels(engine, levels, cycle_at=cycle_at, settings=settings)
    assessment.stage_seconds = stage_seconds
    with session_scope(engine) as session:
        evidence = source_evidence(
            session, sources, cycle_at=cycle_at, settings=settings
        )
        apply_evidence(session, evidence, at=cycle_at)
    return assessment


def _record_levels(
    engine: sa.Engine, levels: pd.DataFrame, *, cycle_at: datetime, settings: Settings
) -> VillageAssessment:
    counts = levels["level"].value_counts()
    assessment = VillageAssessment(
        villages_by_level={level: int(counts.get(level, 0)) for level in LEVELS},
        villages_unmonitored=int(counts.get(alert_store.UNMONITORED, 0)),
        villages_degraded=int(levels["degraded"].sum()),
    )
    policy = AlertPolicy.from_settings(settings)
    by_source = levels["source"].value_counts()
    assessment.villages_by_source = {s: int(by_source.get(s, 0)) for s in SOURCES}
    with session_scope(engine) as session:
        store_village_sources(session, levels, cycle_at=cycle_at)
        assessment.at_risk_unmonitored = alert_store.at_risk_now_unmonitored(
            session, levels
        )
        review = alert_store.find_level_changes(
            session, levels, cycle_at=cycle_at, policy=policy
        )
        # While Storm Mode is on, the storm flow sends the reminders, faster.
        reminders = []
        if not storm.is_active(session):
            reminders = alert_store.due_reminders(
                session,
                at=cycle_at,
                interval=policy.reminder_interval,
                levels=levels,
                skip={change.village_id for change in review.changes},
            )
    assessment.changes = review.changes + reminders
    assessment.reminders = len(reminders)
    assessment.level_moves_without_message = review.moved_quietly
    if assessment.at_risk_unmonitored:
        logger.warning(
            "%d villages last above NORMAL have no usable gauge now "
            "(degraded, level unconfirmed), e.g. %s",
            len(assessment.at_risk_unmonitored),
            ", ".join(assessment.at_risk_unmonitored[:5]),
        )
    if assessment.villages_degraded:
        logger.warning(
            "%d villages decided by fallback sources (degraded), by source: %s",
            assessment.villages_degraded,
            {k: v for k, v in assessment.villages_by_source.items() if k != "gauge"},
        )
    logger.info(
        "village levels at %s: %s, %d unmonitored, %d changes",
        cycle_at.isoformat(),
        assessment.villages_by_level,
        assessment.villages_unmonitored,
        len(assessment.changes),
    )
    return assessment
