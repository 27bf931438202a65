"""The simulated clock of a backtest: the nowcast's steps, hour by hour.

Two kinds of event run in time order on a scratch database:

- ingest, at the name time of each snapshot (when the file became visible):
  :func:`argus.cycle.ingest_gauges` reads every file visible then and judges
  the new values with the data contracts, exactly as a nowcast cycle would;
- issue, at every whole hour in IST (CWC's clock, so that valid times fall on
  the hourly readings): the forecaster reads the accepted history as published
  by that hour and forecasts 1..24 h ahead; with villages loaded, their levels
  are decided by :func:`argus.assess.assess_villages` and each change of level
  is recorded by :func:`argus.alerting.alert_village`.

An ingest and an issue at the same time run in that order, because a file is
visible from its name time on. Files that become visible after the last issue
hour are ingested too, so that the truth holds CWC's later revisions.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd
import sqlalchemy as sa
from sqlmodel import select

from argus import assess, cycle
from argus.alerting import alert_village
from argus.compute import dask_client
from argus.settings import Settings
from argus.sources.cwc_payload import IST
from argus.sources.gauges import ReplayGaugeSource
from argus.storage import cycles as cycle_store
from argus.storage import forecasts as forecast_store
from argus.storage.db import create_db_engine, migrate, session_scope
from argus.storage.tables import VillageState

logger = logging.getLogger(__name__)

AT_RISK_LEVELS = ("WARNING", "EMERGENCY")
ALERT_COLUMNS = ["village_id", "issued_at", "level", "previous_level", "reasons"]


@dataclass
class Simulation:
    """Everything the clock produced, in memory, for scoring and writing."""

    forecasts: list[pd.DataFrame] = field(default_factory=list)
    persistence: list[pd.DataFrame] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    at_risk: list[pd.DataFrame] = field(default_factory=list)
    source_failures: dict[str, str] = field(default_factory=dict)
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    stations_registered: dict[str, str] = field(default_factory=dict)
    ingests: int = 0
    hours_issued: int = 0
    hours_without_forecast: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def scratch_engine(database_url: str | None = None) -> Iterator[sa.Engine]:
    """Open a migrated scratch database: the given (empty) one, else SQLite in a
    temporary folder that is removed on exit."""
    if database_url:
        engine = create_db_engine(database_url)
        migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with TemporaryDirectory(prefix="argus-backtest-") as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def issue_hours(start: datetime, end: datetime) -> list[pd.Timestamp]:
    """Whole IST hours in ``[start, end]``, as UTC timestamps."""
    first = pd.Timestamp(start).tz_convert(IST).ceil("h")
    last = pd.Timestamp(end).tz_convert(IST).floor("h")
    if last < first:
        return []
    return list(pd.date_range(first, last, freq="h").tz_convert("UTC"))


def run_clock(
    engine: sa.Engine,
    source: ReplayGaugeSource,
    *,
    hours: list[pd.Timestamp],
    forecaster,
    settings: Settings,
    with_villages: bool,
    at_risk_window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Simulation:
    """Run the ingest and issue events in time order; see the module docstring.

    ``at_risk_window`` (UTC, both ends included) selects the issue hours whose
    villages at WARNING or above are kept in ``Simulation.at_risk``.
    """
    result = Simulation()
    pending = [pd.Timestamp(t) for t in source.replay.snapshot_times()]
    clock = _Stopwatch(result.stage_seconds)

    with _dask_if(with_villages, settings):
        for hour in hours:
            while pending and pending[0] <= hour:
                with clock("ingest"):
                    _ingest(engine, source, pending.pop(0), settings, result)
            _issue(engine, hour, forecaster, settings, with_villages, result, clock)
            if with_villages and _inside(hour, at_risk_window):
                result.at_risk.append(_villages_at_risk(engine, hour))
        while pending:
            with clock("ingest"):
                _ingest(engine, source, pending.pop(0), settings, result)
    return result


def _ingest(
    engine: sa.Engine,
    source: ReplayGaugeSource,
    at: pd.Timestamp,
    settings: Settings,
    result: Simulation,
) -> None:
    moment = at.to_pydatetime()
    with session_scope(engine) as session:
        cycle_id = cycle_store.open_cycle(session, cycle_at=moment, mode="backtest")
    report = cycle.ingest_gauges(
        engine, source, cycle_id=cycle_id, cycle_at=moment, settings=settings
    )
    for failure in report.failures:
        name, _, reason = failure.partition(": ")
        result.source_failures.setdefault(name, reason or failure)
    for rule, count in report.quarantined_by_rule.items():
        result.quarantined_by_rule[rule] = (
            result.quarantined_by_rule.get(rule, 0) + count
        )
    result.stations_registered.update(report.stations_registered)
    result.ingests += 1


def _issue(
    engine: sa.Engine,
    hour: pd.Timestamp,
    forecaster,
    settings: Settings,
    with_villages: bool,
    result: Simulation,
    clock: _Stopwatch,
) -> None:
    moment = hour.to_pydatetime()
    with clock("history"):
        history = assess.accepted_history(
            engine, until=moment, span=assess.FORECAST_HISTORY
        )
    with clock("forecast"):
        forecasts = assess.issue_forecasts(engine, forecaster, cycle_at=moment)
    result.hours_issued += 1
    if forecasts.empty:
        result.hours_without_forecast.append(hour.isoformat())
        return
    result.forecasts.append(forecasts)
    with clock("persistence"):
        result.persistence.append(last_levels(history, issued_at=hour))
    if not with_villages:
        return

    with clock("levels"):
        with session_scope(engine) as session:
            forecast_store.store_forecasts(session, forecasts)
        assessment = assess.assess_villages(engine, cycle_at=moment, settings=settings)
    with clock("alerts"):
        for change in assessment.changes:
            alert_village(engine, change, cycle_at=moment)
            result.alerts.append(
                {
                    "village_id": change.village_id,
                    "issued_at": hour,
                    "level": change.level,
                    "previous_level": change.previous_level,
                    "reasons": json.dumps(change.reasons, ensure_ascii=False),
                }
            )


def last_levels(history: pd.DataFrame, *, issued_at: pd.Timestamp) -> pd.DataFrame:
    """Persistence: each station's latest accepted level at the issue time [m]."""
    seen = history[history["observed_at"] <= issued_at]
    latest = seen.sort_values("observed_at").drop_duplicates(
        "station_code", keep="last"
    )
    return pd.DataFrame(
        {
            "station_code": latest["station_code"].to_numpy(),
            "issued_at": issued_at,
            "persistence_m": latest["level_m"].to_numpy(dtype=float),
        }
    )


def _villages_at_risk(engine: sa.Engine, hour: pd.Timestamp) -> pd.DataFrame:
    """Villages whose stored state is WARNING or above after this hour's cycle."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(VillageState.village_id).where(
                VillageState.level.in_(AT_RISK_LEVELS)
            )
        ).all()
    return pd.DataFrame({"village_id": list(rows), "issued_at": hour})


@contextmanager
def _dask_if(needed: bool, settings: Settings) -> Iterator[None]:
    """Open one Dask client for the whole clock, or none without villages."""
    if not needed:
        yield
        return
    with dask_client(settings.dask_address or None):
        yield


def _inside(
    hour: pd.Timestamp, window: tuple[pd.Timestamp, pd.Timestamp] | None
) -> bool:
    return window is not None and window[0] <= hour <= window[1]


class _Stopwatch:
    """Add the wall time of ``with clock(stage):`` blocks per stage [s]."""

    def __init__(self, totals: dict[str, float]) -> None:
        self.totals = totals

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.totals[stage] = round(self.totals.get(stage, 0.0) + spent, 3)
