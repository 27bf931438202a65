"""Trust scores of the sources (CHORUS): earned slowly, lost quickly.

Every source (``gauge:<code>``, ``satellite:flood_extent``,
``citizen:<reporter key>``) has a score in [0, 1]. Each cycle brings evidence
as a target score in [0, 1] with its reasons, and the score moves toward it:
by ``DECAY_RATE`` of the gap when the target is lower, by ``RECOVERY_RATE``
when it is higher. So a gauge that starts sending bad values loses trust
within a cycle or two and regains it over many good ones.

Targets:

- gauge: the product of three factors. The contract pass rate of this
  cycle's new readings. Freshness: 1 while the latest accepted reading is
  within ``gauge_max_age_h``, falling to 0.5 at twice that age. Agreement
  with the gauge's earlier forecasts: 0.5 + 0.5 x the share of readings
  inside the p10..p90 band widened by ``FORECAST_TOLERANCE_M``. The target
  is halved when the gauge disagrees with its neighbours on the same river
  (see :mod:`argus.neighbour_agreement`). Freshness
  stops at 0.5 because a silent gauge is already unusable while silent, and
  it should be trusted again as soon as it is back with good readings.
- satellite: share of scenes that could be read, times freshness of the newest
  scene against ``satellite_max_age_h``.
- citizen reporter: ``CITIZEN_START`` plus ``CITIZEN_STEP`` for each of the
  reporter's reports in the window that another reporter (or a sensor)
  corroborated, up to ``CITIZEN_MAX``; a reporter's many uncorroborated
  reports add nothing.

NOTE: the start values, rates and steps are judgment, not fitted to data; no
record of source failures exists yet to fit them on.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from argus.neighbour_agreement import (
    CHANGE_SPAN,
    NEIGHBOUR_TOLERANCE_M,
    level_changes,
    neighbour_agreement,
)
from argus.storage.observations import load_accepted_history, load_stations
from argus.storage.source_tables import SourceTrust
from argus.storage.tables import Forecast, Observation

logger = logging.getLogger(__name__)

INITIAL_TRUST = {"gauge": 0.8, "satellite": 0.7, "camera": 0.6, "citizen": 0.2}
MIN_TRUST = 0.3
DECAY_RATE = 0.5
RECOVERY_RATE = 0.1
FORECAST_TOLERANCE_M = 0.25
CITIZEN_START = 0.2
CITIZEN_STEP = 0.1
CITIZEN_MAX = 0.9
EVIDENCE_COLUMNS = ("source_id", "kind", "target", "reasons")
TRUST_COLUMNS = ("source_id", "kind", "score", "reasons", "updated_at")


def next_scores(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Move each score toward its target: fast down, slowly up."""
    rate = np.where(targets < scores, DECAY_RATE, RECOVERY_RATE)
    return np.clip(scores + rate * (targets - scores), 0.0, 1.0)


def apply_evidence(session: Session, evidence: pd.DataFrame, *, at: datetime) -> int:
    """Update the scores of the sources in ``evidence`` and return their count.

    ``evidence`` has columns ``EVIDENCE_COLUMNS``; ``reasons`` is a list of
    strings. A source seen for the first time starts at ``INITIAL_TRUST``.
    """
    if evidence.empty:
        return 0
    stored = {
        row.source_id: row
        for row in session.exec(
            select(SourceTrust).where(
                SourceTrust.source_id.in_(evidence["source_id"].tolist())
            )
        ).all()
    }
    before = np.array(
        [
            stored[s].score if s in stored else INITIAL_TRUST[k]
            for s, k in zip(evidence["source_id"], evidence["kind"], strict=True)
        ]
    )
    after = next_scores(before, evidence["target"].to_numpy(float))
    for record, old, new in zip(
        evidence.to_dict("records"), before, after, strict=True
    ):
        reasons = [f"target {record['target']:.2f}, score {old:.2f} -> {new:.2f}"]
        row = stored.get(record["source_id"]) or SourceTrust(
            source_id=record["source_id"], kind=record["kind"], score=float(new)
        )
        row.score = float(new)
        row.reasons = json.dumps(reasons + list(record["reasons"]))
        row.updated_at = at
        session.add(row)
    session.flush()
    dropped = int((after < before - 1e-9).sum())
    if dropped:
        logger.info("trust fell at %d sources this cycle", dropped)
    return len(evidence)


def load_trust(session: Session) -> pd.DataFrame:
    """Load all scores, lowest first, with ``reasons`` as lists."""
    rows = [r.model_dump() for r in session.exec(select(SourceTrust)).all()]
    frame = pd.DataFrame(rows, columns=list(TRUST_COLUMNS))
    frame["reasons"] = frame["reasons"].map(json.loads)
    return frame.sort_values(["score", "source_id"]).reset_index(drop=True)


def trust_of(trust: pd.DataFrame, source_ids: pd.Series, kind: str) -> np.ndarray:
    """Look up the score of each id, or the kind's start value when unknown."""
    scores = trust.set_index("source_id")["score"]
    return source_ids.map(scores).fillna(INITIAL_TRUST[kind]).to_numpy(float)


def gauge_evidence(
    session: Session, *, cycle_id: int, cycle_at: datetime, max_age_h: float
) -> pd.DataFrame:
    """Build the evidence of every gauge with readings this cycle or a score."""
    judged = pd.DataFrame(
        session.exec(
            select(
                Observation.station_code,
                Observation.observed_at,
                Observation.level_m,
                Observation.accepted,
            ).where(Observation.cycle_id == cycle_id)
        ).all(),
        columns=["station_code", "observed_at", "level_m", "accepted"],
    )
    known = session.exec(
        select(SourceTrust.source_id).where(SourceTrust.kind == "gauge")
    ).all()
    codes = sorted(
        set(judged["station_code"]) | {s.removeprefix("gauge:") for s in known}
    )
    if not codes:
        return pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    frame = pd.DataFrame({"station_code": codes})
    frame = frame.merge(_pass_rates(judged), on="station_code", how="left")
    frame = frame.merge(
        _freshness(session, codes, cycle_at=cycle_at, max_age_h=max_age_h),
        on="station_code",
        how="left",
    )
    frame = frame.merge(
        _forecast_agreement(session, judged, cycle_at=cycle_at),
        on="station_code",
        how="left",
    )
    frame = frame.merge(
        _neighbour_agreement(session, cycle_at=cycle_at),
        on="station_code",
        how="left",
    )
    return _gauge_targets(frame)


def _neighbour_agreement(session: Session, *, cycle_at: datetime) -> pd.DataFrame:
    history = load_accepted_history(
        session, cycle_at - CHANGE_SPAN - timedelta(hours=1), as_of=cycle_at
    )
    changes = level_changes(history, until=cycle_at)
    return (
        neighbour_agreement(changes, load_stations(session))
        .drop(columns="change_m")
        .merge(changes, on="station_code")
    )


def _pass_rates(judged: pd.DataFrame) -> pd.DataFrame:
    grouped = judged.groupby("station_code")["accepted"]
    return pd.DataFrame(
        {"passed": grouped.sum().astype(int), "judged": grouped.size()}
    ).reset_index()


def _freshness(
    session: Session, codes: list[str], *, cycle_at: datetime, max_age_h: float
) -> pd.DataFrame:
    rows = session.exec(
        select(Observation.station_code, Observation.observed_at)
        .where(Observation.accepted)
        .where(Observation.observed_at <= cycle_at)
        .where(Observation.published_at <= cycle_at)
        .where(Observation.observed_at > cycle_at - timedelta(days=7))
    ).all()
    latest = pd.DataFrame(rows, columns=["station_code", "observed_at"])
    latest = latest.groupby("station_code")["observed_at"].max()
    age_h = (pd.Timestamp(cycle_at) - pd.to_datetime(latest, utc=True)) / pd.Timedelta(
        hours=1
    )
    age_h = age_h.reindex(codes)
    freshness = np.clip(2 - age_h.to_numpy(float) / max_age_h, 0.5, 1)
    return pd.DataFrame(
        {
            "station_code": codes,
            "age_h": age_h.to_numpy(float),
            "freshness": np.nan_to_num(freshness, nan=0.5),
            "max_age_h": max_age_h,
        }
    )


def _forecast_agreement(
    session: Session, judged: pd.DataFrame, *, cycle_at: datetime
) -> pd.DataFrame:
    """Share of this cycle's accepted readings inside an earlier forecast band."""
    accepted = judged[judged["accepted"].astype(bool)].copy()
    empty = pd.DataFrame(columns=["station_code", "in_band", "compared"])
    if accepted.empty:
        return empty

    rows = session.exec(
        select(
            Forecast.station_code,
            Forecast.issued_at,
            Forecast.lead_time_h,
            Forecast.p10_m,
            Forecast.p90_m,
        )
        .where(Forecast.issued_at < cycle_at)
        .where(Forecast.issued_at >= cycle_at - timedelta(hours=24))
        .where(Forecast.station_code.in_(accepted["station_code"].unique().tolist()))
    ).all()
    forecasts = pd.DataFrame(
        rows, columns=["station_code", "issued_at", "lead_time_h", "p10_m", "p90_m"]
    )
    if forecasts.empty:
        return empty

    # Each valid time keeps the forecast issued last before the cycle.
    forecasts["issued_at"] = pd.to_datetime(forecasts["issued_at"], utc=True)
    forecasts["observed_at"] = forecasts["issued_at"] + pd.to_timedelta(
        forecasts["lead_time_h"], unit="h"
    )
    forecasts = forecasts.sort_values("issued_at").drop_duplicates(
        ["station_code", "observed_at"], keep="last"
    )

    accepted["observed_at"] = pd.to_datetime(accepted["observed_at"], utc=True)
    both = accepted.merge(forecasts, on=["station_code", "observed_at"])
    if both.empty:
        return empty
    both["in_band"] = both["level_m"].between(
        both["p10_m"] - FORECAST_TOLERANCE_M, both["p90_m"] + FORECAST_TOLERANCE_M
    )
    grouped = both.groupby("station_code")["in_band"]
    return pd.DataFrame(
        {"in_band": grouped.sum().astype(int), "compared": grouped.size()}
    ).reset_index()


def _gauge_targets(frame: pd.DataFrame) -> pd.DataFrame:
    judged = frame["judged"].fillna(0).to_numpy(float)
    passed = frame["passed"].fillna(0).to_numpy(float)
    compared = frame["compared"].fillna(0).to_numpy(float)
    in_band = frame["in_band"].fillna(0).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pass_rate = np.where(judged > 0, passed / judged, 1.0)
        agreement = np.where(compared > 0, 0.5 + 0.5 * in_band / compared, 1.0)
    gap_m = np.abs(
        frame["change_m"].to_numpy(float) - frame["neighbour_change_m"].to_numpy(float)
    )
    disagrees = gap_m > NEIGHBOUR_TOLERANCE_M
    target = pass_rate * frame["freshness"].to_numpy(float) * agreement
    target = np.where(disagrees, target * 0.5, target)
    reasons = []
    for i, record in enumerate(frame.to_dict("records")):
        texts = []
        if judged[i]:
            texts.append(
                f"contract pass rate {int(passed[i])}/{int(judged[i])} this cycle"
            )
        if np.isnan(record["age_h"]):
            texts.append("no accepted reading in 7 days")
        elif record["age_h"] > record["max_age_h"]:
            texts.append(
                f"latest reading {record['age_h']:.1f} h old "
                f"(limit {record['max_age_h']:g} h)"
            )
        if compared[i]:
            texts.append(
                f"{int(in_band[i])}/{int(compared[i])} readings inside the "
                "earlier forecast band"
            )
        if disagrees[i]:
            texts.append(
                f"6 h change {record['change_m']:+.2f} m against "
                f"{record['neighbour_change_m']:+.2f} m at "
                f"{int(record['neighbours'])} neighbour(s) on the same river"
            )
        reasons.append(texts)
    return pd.DataFrame(
        {
            "source_id": "gauge:" + frame["station_code"].astype(str),
            "kind": "gauge",
            "target": np.clip(target, 0, 1),
            "reasons": reasons,
        }
    )


def update_gauge_trust(
    engine, *, cycle_id: int, cycle_at: datetime, max_age_h: float
) -> int:
    """Score every gauge from this cycle's contract results; returns the count."""
    from argus.storage.db import session_scope

    with session_scope(engine) as session:
        evidence = gauge_evidence(
            session, cycle_id=cycle_id, cycle_at=cycle_at, max_age_h=max_age_h
        )
        return apply_evidence(session, evidence, at=cycle_at)
