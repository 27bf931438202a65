"""Per-village inputs from the sources beside the gauges, and their trust evidence.

:func:`village_sources` gathers, for every village at once, the newest
satellite flooded fraction, the citizen reports of the time window (one
severity per distinct reporter), the trust of each source and the operator's
fallback switch. :func:`argus.features.build_features` adds these columns to
the features, and :func:`models.fallback_levels.apply_fallback` decides from
them when the gauge cannot.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from argus.fallback import forced_villages
from argus.reports import corroborate, load_reports
from argus.settings import Settings
from argus.storage.satellite import latest_observations
from argus.storage.source_tables import SatelliteScene
from argus.trust import (
    CITIZEN_MAX,
    CITIZEN_START,
    CITIZEN_STEP,
    EVIDENCE_COLUMNS,
    load_trust,
    trust_of,
)
from models.fallback_levels import citizen_severity, satellite_severity

logger = logging.getLogger(__name__)

SATELLITE_SOURCE = "satellite:flood_extent"


def village_sources(
    session: Session,
    villages_ref: pd.DataFrame,
    *,
    cycle_at: datetime,
    settings: Settings,
) -> pd.DataFrame:
    """Build one row per village of ``villages_ref`` with the fallback inputs.

    Columns: ``village_id``, ``gauge_trust``, ``fallback_forced``,
    ``satellite_flooded_fraction`` [1], ``satellite_age_h`` [h],
    ``satellite_usable``, ``satellite_trust``, ``citizen_severity`` (0 NORMAL
    .. 3 EMERGENCY), ``citizen_reporters``, ``citizen_trust``.
    """
    trust = load_trust(session)
    ids = villages_ref["village_id"].astype(str).reset_index(drop=True)
    codes = villages_ref["station_code"].reset_index(drop=True)
    frame = pd.DataFrame({"village_id": ids})
    gauge_trust = trust_of(trust, "gauge:" + codes.fillna("").astype(str), "gauge")
    frame["gauge_trust"] = np.where(codes.isna(), np.nan, gauge_trust)
    frame["fallback_forced"] = ids.isin(forced_villages(session)).to_numpy()

    satellite = _satellite_columns(session, ids, cycle_at=cycle_at)
    frame = frame.join(satellite)
    frame["satellite_usable"] = (
        frame["satellite_age_h"].between(0, settings.satellite_max_age_h)
        & frame["satellite_flooded_fraction"].notna()
    )
    frame["satellite_trust"] = trust_of(
        trust, pd.Series([SATELLITE_SOURCE] * len(frame), dtype=object), "satellite"
    )

    reports = window_reports(session, cycle_at=cycle_at, settings=settings)
    frame = frame.join(_citizen_columns(reports, ids, trust))
    return frame


def _satellite_columns(
    session: Session, ids: pd.Series, *, cycle_at: datetime
) -> pd.DataFrame:
    observed = latest_observations(session, as_of=cycle_at).set_index("village_id")
    observed = observed.reindex(ids)
    acquired_at = pd.to_datetime(observed["acquired_at"], utc=True)
    age_h = (pd.Timestamp(cycle_at) - acquired_at) / pd.Timedelta(hours=1)
    return pd.DataFrame(
        {
            "satellite_flooded_fraction": observed["flooded_fraction"].to_numpy(float),
            "satellite_age_h": age_h.to_numpy(dtype="float64", na_value=np.nan),
        }
    )


def window_reports(
    session: Session, *, cycle_at: datetime, settings: Settings
) -> pd.DataFrame:
    """Load the reports of the time window with ``reporters_nearby`` and ``severity``."""
    since = cycle_at - timedelta(hours=settings.citizen_window_h)
    reports = load_reports(session, since=since, until=cycle_at)
    reports = corroborate(reports, radius_km=settings.citizen_radius_km)
    reports["severity"] = citizen_severity(
        reports["depth_m"].to_numpy(float), reports["flag"].to_numpy(object)
    )
    return reports


def _citizen_columns(
    reports: pd.DataFrame, ids: pd.Series, trust: pd.DataFrame
) -> pd.DataFrame:
    """Compute median severity, distinct reporters and group trust per village."""
    empty = pd.DataFrame(
        {
            "citizen_severity": np.full(len(ids), np.nan),
            "citizen_reporters": np.zeros(len(ids)),
            "citizen_trust": np.zeros(len(ids)),
        }
    )
    placed = reports.dropna(subset=["village_id", "severity"])
    if placed.empty:
        return empty
    # One person's newest report per village: many reports count once.
    latest = placed.drop_duplicates(["village_id", "reporter_key"], keep="last")
    latest = latest.assign(
        trust=trust_of(trust, "citizen:" + latest["reporter_key"], "citizen")
    )
    grouped = latest.groupby("village_id")
    summary = pd.DataFrame(
        {
            "citizen_severity": grouped["severity"].median().apply(np.ceil),
            "citizen_reporters": grouped["reporter_key"].nunique(),
            "citizen_trust": 1 - grouped["trust"].apply(lambda t: np.prod(1 - t)),
        }
    ).reindex(ids)
    summary["citizen_reporters"] = summary["citizen_reporters"].fillna(0)
    summary["citizen_trust"] = summary["citizen_trust"].fillna(0.0)
    return summary.reset_index(drop=True)


def source_evidence(
    session: Session, sources: pd.DataFrame, *, cycle_at: datetime, settings: Settings
) -> pd.DataFrame:
    """Build the trust evidence of the satellite product and of the reporters."""
    parts = [
        _satellite_evidence(session, cycle_at=cycle_at, settings=settings),
        _citizen_evidence(
            window_reports(session, cycle_at=cycle_at, settings=settings), sources
        ),
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def _satellite_evidence(
    session: Session, *, cycle_at: datetime, settings: Settings
) -> pd.DataFrame:
    rows = session.exec(select(SatelliteScene.status, SatelliteScene.acquired_at)).all()
    if not rows:
        return pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    scenes = pd.DataFrame(rows, columns=["status", "acquired_at"])
    read = (scenes["status"] == "ingested").mean()
    newest = pd.to_datetime(
        scenes.loc[scenes["status"] == "ingested", "acquired_at"], utc=True
    ).max()
    age_h = (pd.Timestamp(cycle_at) - newest) / pd.Timedelta(hours=1)
    limit = settings.satellite_max_age_h
    # A product that is simply not delivered lately is stale, not wrong.
    freshness = 0.5 if pd.isna(age_h) else float(np.clip(2 - age_h / limit, 0.5, 1))
    reasons = [f"{read:.0%} of {len(scenes)} scenes readable"]
    if not pd.isna(age_h) and age_h > limit:
        reasons.append(f"newest scene {age_h:.0f} h old (limit {limit:g} h)")
    return pd.DataFrame(
        {
            "source_id": [SATELLITE_SOURCE],
            "kind": ["satellite"],
            "target": [float(read) * freshness],
            "reasons": [reasons],
        }
    )


def _citizen_evidence(reports: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Per reporter: corroborated by others or by a fresh satellite scene."""
    if reports.empty:
        return pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    satellite = sources.set_index("village_id")
    fresh = satellite["satellite_usable"].astype(bool)
    sensed = pd.Series(
        satellite_severity(satellite["satellite_flooded_fraction"].to_numpy(float)),
        index=satellite.index,
    ).where(fresh)
    reports = reports.assign(sensor=reports["village_id"].map(sensed))

    agrees = (reports["severity"] > 0) == (reports["sensor"] > 0)
    reports = reports.assign(
        others=reports["reporters_nearby"] - 1,
        sensor_agrees=reports["sensor"].notna() & agrees,
        sensor_disagrees=reports["sensor"].notna() & ~agrees,
    )

    grouped = reports.groupby("reporter_key")
    summary = pd.DataFrame(
        {
            "others": grouped["others"].max(),
            "sensor_agrees": grouped["sensor_agrees"].any(),
            "sensor_disagrees": grouped["sensor_disagrees"].all(),
        }
    ).reset_index()

    steps = summary["others"] + summary["sensor_agrees"].astype(int)
    target = np.minimum(CITIZEN_MAX, CITIZEN_START + CITIZEN_STEP * steps)
    contradicted = summary["sensor_disagrees"] & (summary["others"] == 0)
    target = np.where(contradicted, CITIZEN_START / 2, target)
    reasons = [_citizen_reasons(record) for record in summary.to_dict("records")]
    return pd.DataFrame(
        {
            "source_id": "citizen:" + summary["reporter_key"],
            "kind": "citizen",
            "target": target,
            "reasons": reasons,
        }
    )


def _citizen_reasons(record: dict) -> list[str]:
    reasons = [f"corroborated by {int(record['others'])} other reporter(s) nearby"]
    if record["sensor_agrees"]:
        reasons.append("agrees with the satellite scene")
    if record["sensor_disagrees"]:
        reasons.append("contradicted by the satellite scene")
    return reasons
