"""Run a backtest over a snapshot folder and write its output files.

``OUTDIR/forecasts.csv``: station_code (as CWC writes it, stripped), issued_at,
valid_at, lead_h, level_m (the median), p10_m, p90_m, model. Times are ISO
8601 in UTC with the offset written out.

``OUTDIR/alerts.csv``: village_id, issued_at, level, previous_level, reasons
(a JSON list), one row per change of level that the nowcast would alert.

``OUTDIR/metrics.json``: what was run, the files read and skipped, and the
issue hours scored. It gives skill per lead bucket against persistence and
against CWC's official forecasts (see :mod:`argus.backtest.skill`) and the
share of forecasts per model. With its files given, it adds the
revenue-circle check. ``stations_without_reference`` counts the gauges that
the station reference lacks. They are forecast and scored like the others
(see :mod:`argus.unreferenced_stations`), and
``stations_without_reference_read_in`` names the file each was first read in.

``OUTDIR/scored.csv.gz`` and ``OUTDIR/official_pairs.csv``: every scored
forecast with its truth and persistence, and the CWC pairs, so that a model
card can score held-out stations or hours of the same run.

Truth is the latest accepted revision of each station and hour, after every
file has been ingested: values the data contracts rejected are never truth.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlmodel import select

from argus.backtest import circles, skill
from argus.backtest.simulate import (
    ALERT_COLUMNS,
    Simulation,
    issue_hours,
    run_clock,
    scratch_engine,
)
from argus.cycle import refresh_stations
from argus.settings import Settings
from argus.sources.gauges import ReplayGaugeSource
from argus.sources.replay import STATIONS_FILE_NAMES, is_snapshot_name
from argus.storage import observations as obs_store
from argus.storage.db import session_scope
from argus.storage.tables import OfficialForecast
from argus.storage.villages import load_villages, upsert_villages
from argus.villages import read_village_file

logger = logging.getLogger(__name__)

SCORED_FILE = "scored.csv.gz"
OFFICIAL_PAIRS_FILE = "official_pairs.csv"
FORECAST_COLUMNS = [
    "station_code",
    "issued_at",
    "valid_at",
    "lead_h",
    "level_m",
    "p10_m",
    "p90_m",
    "model",
]
# Forecast levels are written and scored at 0.1 mm, so that the metrics can be
# recomputed exactly from forecasts.csv.
LEVEL_DECIMALS = 4
# Two snapshots further apart than this are reported as a gap [h].
GAP_REPORT_H = 6.0
_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BacktestRequest:
    """Inputs and options of one backtest.

    Times are aware; None means the first or last snapshot.
    """

    replay_dir: Path
    out_dir: Path
    start: datetime | None = None
    end: datetime | None = None
    villages_file: Path | None = None
    stations_file: Path | None = None
    reports: circles.CircleReports | None = None
    database_url: str | None = None
    seed: int = 0


def run_backtest(request: BacktestRequest, *, forecaster, settings: Settings) -> dict:
    """Replay ``request.replay_dir`` hour by hour and write the outputs.

    Returns the metrics also written to ``metrics.json``.

    Raises
    ------
    ReplayError
        When the replay folder does not exist or no station file is found.
    InputError
        When a villages or report file cannot be read.
    """
    started = time.perf_counter()
    source = ReplayGaugeSource(request.replay_dir, request.stations_file)
    inventory = _inventory(request.replay_dir)
    times = source.replay.snapshot_times()
    request.out_dir.mkdir(parents=True, exist_ok=True)
    if not times:
        logger.warning("no snapshot files in %s", request.replay_dir)
        return _write(request, Simulation(), pd.DataFrame(), {}, inventory, [], [], [])

    start = request.start or times[0]
    end = request.end or times[-1]
    hours = issue_hours(start, end)
    window = circles.report_window(request.reports) if request.reports else None
    with scratch_engine(request.database_url) as engine:
        refresh_stations(engine, source)
        villages_rejected = _load_villages(engine, request.villages_file)
        simulation = run_clock(
            engine,
            source,
            hours=hours,
            forecaster=forecaster,
            settings=settings,
            with_villages=request.villages_file is not None,
            at_risk_window=circles.window_bounds(window) if window else None,
        )
        truth, official, raw_codes, registry = _read_back(engine)

    forecasts = _forecast_table(simulation, raw_codes)
    metrics = _score(
        forecasts, simulation, truth, official, request.seed, request.out_dir
    )
    if window is not None:
        at_risk = pd.concat(
            simulation.at_risk or [pd.DataFrame(columns=["village_id"])]
        )
        metrics["revenue_circles"] = circles.check_circles(
            at_risk,
            registry,
            request.reports,
            window=window,
            issue_hours_in_window=len(simulation.at_risk),
        )
    metrics["villages_rejected"] = villages_rejected
    simulation.stage_seconds["total"] = round(time.perf_counter() - started, 3)
    files = source.replay.visible_files(times[-1])
    return _write(
        request, simulation, forecasts, metrics, inventory, files, times, hours
    )


def _inventory(folder: Path) -> list[dict]:
    """Files in the folder that are neither snapshots nor station files."""
    ignored = []
    for path in sorted(Path(folder).iterdir()):
        if path.name in STATIONS_FILE_NAMES or is_snapshot_name(path.name):
            continue
        reason = (
            "not a file"
            if not path.is_file()
            else "name is not ffs_<YYYY-MM-DDTHHMM>[_N].json[.gz]"
        )
        ignored.append({"file": path.name, "reason": reason})
    return ignored


def _load_villages(engine: sa.Engine, path: Path | None) -> list[str]:
    """Store the villages of a CSV or OSM places file; return rejected rows."""
    if path is None:
        return []
    read = read_village_file(path)
    rejected = [f"{path.name}:{p.line}: {p.reason}" for p in read.problems]
    with session_scope(engine) as session:
        upsert_villages(session, read.villages, source=path.name)
    for problem in rejected:
        logger.warning("village row skipped: %s", problem)
    return rejected


def _read_back(engine: sa.Engine):
    """Truth, CWC's forecasts, CWC's own spelling of codes and the villages."""
    with session_scope(engine) as session:
        revisions = obs_store.stored_revisions(session, _EPOCH)
        official = pd.DataFrame(
            session.exec(
                select(
                    OfficialForecast.station_code,
                    OfficialForecast.issued_at,
                    OfficialForecast.forecast_for,
                    OfficialForecast.level_m,
                )
            ).all(),
            columns=["station_code", "issued_at", "forecast_for", "level_m"],
        )
        raw_codes = _raw_codes(session)
        registry = load_villages(session)
    accepted = revisions[revisions["accepted"].astype(bool)]
    truth = accepted.sort_values(["published_at", "revision"]).drop_duplicates(
        ["station_code", "observed_at"], keep="last"
    )
    for column in ("issued_at", "forecast_for"):
        official[column] = pd.to_datetime(official[column], utc=True)
    truth = truth[["station_code", "observed_at", "level_m"]].reset_index(drop=True)
    return truth, official, raw_codes, registry


def _raw_codes(session) -> dict[str, str]:
    """Map each normalised station code to the code as CWC wrote it, stripped."""
    rows = session.exec(
        sa.text(
            "SELECT station_code, MAX(station_code_raw) FROM observation "
            "GROUP BY station_code"
        )
    ).all()
    return {code: str(raw).strip() for code, raw in rows}


def _forecast_table(simulation: Simulation, raw_codes: dict[str, str]) -> pd.DataFrame:
    if not simulation.forecasts:
        return pd.DataFrame(columns=[*FORECAST_COLUMNS, "station_key"])
    frame = pd.concat(simulation.forecasts, ignore_index=True)
    issued = pd.to_datetime(frame["issued_at"], utc=True)
    lead = frame["lead_time_h"].astype(int)
    return pd.DataFrame(
        {
            "station_code": frame["station_code"]
            .map(raw_codes)
            .fillna(frame["station_code"]),
            "issued_at": issued,
            "valid_at": issued + pd.to_timedelta(lead, unit="h"),
            "lead_h": lead,
            "level_m": frame["p50_m"].astype(float).round(LEVEL_DECIMALS),
            "p10_m": frame["p10_m"].astype(float).round(LEVEL_DECIMALS),
            "p90_m": frame["p90_m"].astype(float).round(LEVEL_DECIMALS),
            "model": frame["model"].astype(str),
            "station_key": frame["station_code"],
        }
    )


def _score(forecasts, simulation, truth, official, seed: int, out_dir: Path) -> dict:
    """Compute the skill figures of metrics.json; write the scored rows."""
    if forecasts.empty:
        return {"buckets": {}, "official": {}, "models": {}, "scored_hours": 0}
    keyed = forecasts.drop(columns="station_code").rename(
        columns={"station_key": "station_code"}
    )
    persistence = pd.concat(simulation.persistence, ignore_index=True)
    observed = truth.rename(
        columns={"observed_at": "valid_at", "level_m": "observed_m"}
    )
    scored = keyed.merge(observed, on=["station_code", "valid_at"]).merge(
        persistence, on=["station_code", "issued_at"]
    )
    pairs, unmatched, set_aside = skill.match_official(official, keyed, truth)
    _write_scored(out_dir, scored, pairs)
    return {
        "buckets": skill.score_against_persistence(scored),
        "official": {
            "forecasts": len(official),
            "unmatched": unmatched,
            "set_aside_stations": set_aside,
            "buckets": skill.score_official(pairs, seed=seed),
            "bootstrap": {
                "samples": skill.BOOTSTRAP_SAMPLES,
                "seed": seed,
                "resampled_unit": skill.BOOTSTRAP_UNIT,
            },
        },
        "models": skill.model_shares(forecasts),
        "scored_rows": len(scored),
        "scored_hours": int(scored["issued_at"].nunique()),
    }


def _write_scored(out_dir: Path, scored: pd.DataFrame, pairs: pd.DataFrame) -> None:
    """Write each scored forecast with its truth and persistence, and the CWC pairs.

    ``scored.csv.gz`` (station_code, issued_at, valid_at, lead_h, level_m,
    p10_m, p90_m, model, observed_m, persistence_m) and ``official_pairs.csv``
    let a model card score any subset of stations or hours again.
    """
    columns = [*FORECAST_COLUMNS, "observed_m", "persistence_m"]
    table = scored.reindex(columns=columns)
    for column in ("issued_at", "valid_at"):
        table[column] = _iso(table[column])
    table.to_csv(out_dir / SCORED_FILE, index=False)
    pairs.to_csv(out_dir / OFFICIAL_PAIRS_FILE, index=False)


def _write(
    request, simulation, forecasts, scores, ignored, files, times, hours
) -> dict:
    """Write forecasts.csv, alerts.csv and metrics.json; return the metrics."""
    table = forecasts.reindex(columns=FORECAST_COLUMNS)
    for column in ("issued_at", "valid_at"):
        table[column] = _iso(table[column])
    table.to_csv(request.out_dir / "forecasts.csv", index=False)
    alerts = pd.DataFrame(simulation.alerts, columns=ALERT_COLUMNS)
    alerts["issued_at"] = _iso(alerts["issued_at"])
    alerts.to_csv(request.out_dir / "alerts.csv", index=False)

    skipped = [{"file": f, "reason": r} for f, r in simulation.source_failures.items()]
    metrics = {
        "run": _describe(request, hours),
        "instants": {
            "issue_hours": simulation.hours_issued,
            "scored": scores.pop("scored_hours", 0),
            "without_forecast": len(simulation.hours_without_forecast),
            "first_without_forecast": simulation.hours_without_forecast[:10],
        },
        "files": {
            "snapshots": len(files),
            "snapshot_times": len(times),
            "ingest_cycles": simulation.ingests,
            "quarantined_by_rule": simulation.quarantined_by_rule,
            "skipped": skipped + ignored,
            "gaps": _gaps(times),
        },
        "forecast_rows": len(forecasts),
        "stations_without_reference": len(simulation.stations_registered),
        "stations_without_reference_read_in": simulation.stations_registered,
        **scores,
        "alerts": {
            "rows": len(alerts),
            "by_level": alerts["level"].value_counts().to_dict(),
        },
        "stage_seconds": simulation.stage_seconds,
    }
    text = json.dumps(metrics, indent=2, ensure_ascii=False, default=str)
    (request.out_dir / "metrics.json").write_text(text + "\n", encoding="utf-8")
    return metrics


def _describe(request: BacktestRequest, hours) -> dict:
    return {
        "replay_dir": str(Path(request.replay_dir).resolve()),
        "first_issue": hours[0].isoformat() if len(hours) else None,
        "last_issue": hours[-1].isoformat() if len(hours) else None,
        "villages_file": _absolute(request.villages_file),
        "stations_file": _absolute(request.stations_file),
        "issue_clock": "every whole hour IST",
    }


def _absolute(path: Path | None) -> str | None:
    return str(Path(path).resolve()) if path is not None else None


def _gaps(times: list[datetime]) -> list[dict]:
    gaps = []
    for before, after in itertools.pairwise(times):
        hours = (after - before).total_seconds() / 3600
        if hours > GAP_REPORT_H:
            gaps.append(
                {"from": before.isoformat(), "to": after.isoformat(), "hours": hours}
            )
    return gaps


def _iso(times: pd.Series) -> pd.Series:
    """ISO 8601 text with the offset as +00:00."""
    if times.empty:
        return times.astype(object)
    text = pd.to_datetime(times, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text.str[:-2] + ":" + text.str[-2:]
