"""Gauge level forecasts: ARGUS's own and CWC's official ones."""

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from argus.storage.tables import Forecast, OfficialForecast


def store_official_forecasts(session: Session, forecasts: pd.DataFrame) -> int:
    """Store CWC forecasts not seen before; returns the number stored."""
    if forecasts is None or forecasts.empty:
        return 0
    frame = forecasts.dropna(subset=["station_code", "issued_at", "forecast_for"])
    frame = frame.drop_duplicates(
        ["station_code", "issued_at", "forecast_for"], keep="last"
    )
    frame = frame[pd.to_numeric(frame["level_m"], errors="coerce").notna()]
    existing = set(
        session.exec(
            select(
                OfficialForecast.station_code,
                OfficialForecast.issued_at,
                OfficialForecast.forecast_for,
            ).where(OfficialForecast.issued_at >= frame["issued_at"].min())
        ).all()
    )
    stored = 0
    for record in frame.to_dict("records"):
        key = (
            record["station_code"],
            record["issued_at"].to_pydatetime(),
            record["forecast_for"].to_pydatetime(),
        )
        if key in existing:
            continue
        session.add(
            OfficialForecast(
                station_code=key[0],
                issued_at=key[1],
                forecast_for=key[2],
                level_m=float(record["level_m"]),
                trend=record.get("trend"),
            )
        )
        existing.add(key)
        stored += 1
    session.flush()
    return stored


def store_forecasts(session: Session, forecasts: pd.DataFrame) -> int:
    """Store a forecast issue unless the same station, time and model is stored."""
    if forecasts.empty:
        return 0
    issued_at = forecasts["issued_at"].iloc[0].to_pydatetime()
    already = session.exec(
        select(sa.func.count())
        .select_from(Forecast)
        .where(Forecast.issued_at == issued_at)
    ).one()
    if already:
        return 0
    # One executemany of plain rows, because building 2,000 ORM objects per
    # issue was the largest cost of a backtest's simulated hour.
    rows = [
        {
            "station_code": str(r["station_code"]),
            "issued_at": r["issued_at"].to_pydatetime(),
            "lead_time_h": int(r["lead_time_h"]),
            "p10_m": float(r["p10_m"]),
            "p50_m": float(r["p50_m"]),
            "p90_m": float(r["p90_m"]),
            "model": str(r["model"]),
        }
        for r in forecasts.to_dict("records")
    ]
    session.connection().execute(sa.insert(Forecast.__table__), rows)
    session.flush()
    return len(forecasts)


def load_forecasts(session: Session, issued_at) -> pd.DataFrame:
    """Load the forecasts of one issue time as a frame."""
    rows = session.exec(select(Forecast).where(Forecast.issued_at == issued_at)).all()
    columns = ["station_code", "lead_time_h", "p10_m", "p50_m", "p90_m", "model"]
    return pd.DataFrame([r.model_dump() for r in rows], columns=columns)
