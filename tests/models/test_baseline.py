"""Persistence-and-trend forecaster and the gauge summary, on recorded CWC levels."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from argus.stations import normalise_station_code, read_stations_file
from models.baseline import (
    Z_90,
    PersistenceTrendForecaster,
    summarise_gauges,
    theil_sen_slope,
)

ISSUED = pd.Timestamp("2026-08-01 12:00", tz="Asia/Kolkata")


@pytest.fixture(scope="module")
def history(shared_data: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "cwc_ffs" / "hourly_levels.csv")
    return pd.DataFrame(
        {
            "station_code": raw["cwc_station_code"].map(normalise_station_code),
            "observed_at": pd.to_datetime(raw["observed_at"], utc=True),
            "level_m": raw["level_m"],
        }
    )


def _series(levels: list[float], *, end: pd.Timestamp = ISSUED) -> pd.DataFrame:
    times = pd.date_range(end=end, periods=len(levels), freq="h")
    return pd.DataFrame({"station_code": "S", "observed_at": times, "level_m": levels})


def _score(model: PersistenceTrendForecaster, history: pd.DataFrame, day: str) -> dict:
    issues = pd.date_range(f"{day} 00:00", periods=8, freq="3h", tz="Asia/Kolkata")
    forecasts = pd.concat([model.predict(history, issued_at=t) for t in issues])
    valid = forecasts["issued_at"] + pd.to_timedelta(forecasts["lead_time_h"], unit="h")
    observed = history.drop_duplicates(["station_code", "observed_at"], keep="last")
    observed = observed.set_index(["station_code", "observed_at"])["level_m"]
    seen = observed.reindex(
        pd.MultiIndex.from_arrays([forecasts["station_code"], valid])
    )
    seen = seen.to_numpy()
    kept = forecasts.loc[~np.isnan(seen)]
    seen = seen[~np.isnan(seen)]
    error = np.abs(kept["p50_m"].to_numpy() - seen)
    inside = (seen >= kept["p10_m"].to_numpy()) & (seen <= kept["p90_m"].to_numpy())
    return {
        "n": len(seen),
        "mae": error.mean(),
        "median": np.median(error),
        "cover": inside.mean(),
    }


def test_predict_orders_the_quantiles_on_recorded_levels(history: pd.DataFrame) -> None:
    forecasts = PersistenceTrendForecaster().predict(history, issued_at=ISSUED)

    assert forecasts["station_code"].nunique() == 84
    assert forecasts["lead_time_h"].unique().tolist() == list(range(1, 25))
    assert (forecasts["p10_m"] <= forecasts["p50_m"]).all()
    assert (forecasts["p50_m"] <= forecasts["p90_m"]).all()
    assert (forecasts["model"] == "persistence_trend").all()
    assert (forecasts["issued_at"] == ISSUED).all()


def test_predict_is_persistence_on_a_flat_series() -> None:
    model = PersistenceTrendForecaster()

    forecasts = model.predict(
        _series([47.2] * 10), issued_at=ISSUED, lead_times_h=[1, 6]
    )

    assert forecasts["p50_m"].tolist() == [47.2, 47.2]
    half_width = Z_90 * model.min_step_m * np.array([1, 6])
    np.testing.assert_allclose(forecasts["p90_m"] - forecasts["p50_m"], half_width)


def test_predict_damps_a_steady_rise() -> None:
    rising = [40.0 + 0.1 * hour for hour in range(10)]

    forecasts = PersistenceTrendForecaster().predict(
        _series(rising), issued_at=ISSUED, lead_times_h=[1, 24]
    )

    # damping 0.5: 0.5 h of rise after 1 h, never more than 1 h of rise.
    np.testing.assert_allclose(forecasts["p50_m"], [40.95, 41.0], atol=1e-6)


def test_predict_ignores_readings_after_the_issue_time() -> None:
    later = ISSUED + pd.Timedelta(hours=3)
    series = _series([47.0] * 6 + [60.0, 60.0, 60.0], end=later)

    forecasts = PersistenceTrendForecaster().predict(series, issued_at=ISSUED)

    assert forecasts["p50_m"].max() == 47.0


def test_predict_widens_for_old_readings() -> None:
    model = PersistenceTrendForecaster()
    fresh = model.predict(_series([47.0] * 6), issued_at=ISSUED, lead_times_h=[1])
    old = model.predict(
        _series([47.0] * 6, end=ISSUED - pd.Timedelta(hours=3)),
        issued_at=ISSUED,
        lead_times_h=[1],
    )

    width = (old["p90_m"] - old["p50_m"]) / (fresh["p90_m"] - fresh["p50_m"])
    assert width.iloc[0] == pytest.approx(4.0)


def test_theil_sen_slope_shrugs_off_one_bad_reading() -> None:
    levels = np.array([[10.0, 10.1, 10.2, 1.3, 10.4, 10.5], [np.nan] * 5 + [3.0]])

    slope = theil_sen_slope(levels)

    assert slope[0] == pytest.approx(0.1)
    assert np.isnan(slope[1])


def test_trend_beats_persistence_on_held_out_5_august(history: pd.DataFrame) -> None:
    trend = _score(PersistenceTrendForecaster(), history, "2026-08-05")
    persistence = _score(PersistenceTrendForecaster(damping=0.0), history, "2026-08-05")

    assert trend["n"] == persistence["n"] == 14754
    assert trend["mae"] == pytest.approx(0.2206, abs=1e-4)
    assert persistence["mae"] == pytest.approx(0.2309, abs=1e-4)
    assert trend["median"] == pytest.approx(0.115, abs=1e-3)
    assert persistence["median"] == pytest.approx(0.130, abs=1e-3)
    assert trend["cover"] == pytest.approx(0.787, abs=1e-3)


def test_summarise_gauges_gives_the_latest_reading_and_rate(
    history: pd.DataFrame, shared_data: Path
) -> None:
    stations = read_stations_file(shared_data / "cwc_ffs" / "stations_assam.json")

    gauges = summarise_gauges(history, stations, now=ISSUED)

    assert len(gauges) == 169
    assert gauges["level_m"].notna().sum() == 84
    guwahati = gauges.set_index("station_code").loc["001-MBDGHY"]
    assert guwahati["observed_at"] == pd.Timestamp("2026-08-01 06:30", tz="UTC")
    assert guwahati["level_m"] == 47.43
    # 47.42 for four hours, then 47.43 twice: median pairwise slope 0.01 m / 5 h.
    assert guwahati["rate_m_per_h"] == pytest.approx(0.002)
    assert guwahati["danger_level_m"] == 49.68


def test_predict_rejects_a_naive_issue_time(history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        PersistenceTrendForecaster().predict(
            history, issued_at=ISSUED.tz_localize(None)
        )
