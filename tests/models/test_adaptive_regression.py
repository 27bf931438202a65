"""The adaptive upstream regression on real hourly levels and on clear signals."""

import json

import numpy as np
import pandas as pd
import pytest

from models.adaptive_regression import (
    AdaptiveRegressionForecaster,
    RegressionConfig,
    upstream_indices,
)
from models.baseline import PersistenceTrendForecaster

ISSUED = pd.Timestamp("2026-08-06T06:00:00Z")


@pytest.fixture(scope="module")
def hourly(shared_data):
    """Ten days of real accepted-looking levels up to the issue time, and rivers."""
    levels = pd.read_csv(shared_data / "cwc_ffs" / "hourly_levels.csv")
    levels = levels.rename(columns={"cwc_station_code": "station_code"})
    levels["station_code"] = levels["station_code"].str.strip().str.upper()
    levels["observed_at"] = pd.to_datetime(levels["observed_at"], utc=True)
    reference = json.loads(
        (shared_data / "cwc_ffs" / "stations_assam.json").read_text()
    )
    stations = pd.DataFrame(
        [
            {"station_code": code.strip().upper(), "river": row.get("river")}
            for code, row in reference["stations"].items()
        ]
    )
    return levels[["station_code", "observed_at", "level_m"]], stations


def _synthetic(hours: int, *, daily_amplitude_m: float) -> pd.DataFrame:
    """One gauge with a daily cycle and a slow rise: hourly readings up to ISSUED."""
    times = pd.date_range(end=ISSUED, periods=hours, freq="h")
    phase = 2 * np.pi * np.arange(hours) / 24
    level = 50 + 0.002 * np.arange(hours) + daily_amplitude_m * np.sin(phase)
    return pd.DataFrame({"station_code": "X-1", "observed_at": times, "level_m": level})


def test_daily_cycle_beats_persistence():
    history = _synthetic(240, daily_amplitude_m=0.5)
    forecaster = AdaptiveRegressionForecaster(version="t")

    forecast = forecaster.predict(history, issued_at=ISSUED)
    hours = np.arange(241, 265)
    truth = 50 + 0.002 * hours + 0.5 * np.sin(2 * np.pi * (hours - 1) / 24)
    error_m = np.abs(forecast["p50_m"].to_numpy() - truth)
    persistence_error_m = np.abs(history["level_m"].iloc[-1] - truth)

    assert set(forecast["model"]) == {"upstream_regression-t"}
    assert error_m.max() < 0.05
    assert persistence_error_m.mean() > 0.3
    assert (forecast["p10_m"] <= forecast["p50_m"]).all()
    assert (forecast["p50_m"] <= forecast["p90_m"]).all()


def test_short_history_serves_the_baseline():
    history = _synthetic(60, daily_amplitude_m=0.2)

    forecast = AdaptiveRegressionForecaster().predict(history, issued_at=ISSUED)

    assert set(forecast["model"]) == {PersistenceTrendForecaster.name}
    assert len(forecast) == 24


def test_lead_beyond_the_model_is_refused():
    with pytest.raises(ValueError, match="25 h is beyond"):
        AdaptiveRegressionForecaster().predict(
            _synthetic(240, daily_amplitude_m=0.1), issued_at=ISSUED, lead_times_h=[25]
        )


def test_real_levels_served_without_look_ahead(hourly):
    levels, stations = hourly
    seen = levels[levels["observed_at"] <= ISSUED]
    forecaster = AdaptiveRegressionForecaster(version="t")

    forecast = forecaster.predict(seen, issued_at=ISSUED, stations=stations)
    with_future = forecaster.predict(levels, issued_at=ISSUED, stations=stations)

    served = forecast[forecast["model"] == forecaster.name]
    assert served["station_code"].nunique() > 40
    pd.testing.assert_frame_equal(forecast, with_future)
    assert (forecast["p10_m"] <= forecast["p50_m"]).all()
    assert (forecast["p50_m"] <= forecast["p90_m"]).all()


def test_unknown_station_is_forecast(hourly):
    levels, stations = hourly
    seen = levels[levels["observed_at"] <= ISSUED].copy()
    seen.loc[seen["station_code"] == "002-MBDGHY", "station_code"] = "999-NEW"

    forecast = AdaptiveRegressionForecaster(version="t").predict(
        seen, issued_at=ISSUED, stations=stations
    )

    assert set(forecast.loc[forecast["station_code"] == "999-NEW", "model"]) == {
        "upstream_regression-t"
    }


def test_upstream_same_river_higher_level():
    codes = np.array(["LOW", "MID", "HIGH", "OTHER"], dtype=object)
    levels = np.array([[10.0, 10.1], [20.0, 20.2], [30.0, 30.1], [40.0, 40.0]])
    stations = pd.DataFrame(
        {
            "station_code": ["LOW", "MID", "HIGH", "OTHER"],
            "river": ["Brahmaputra", " brahmaputra", "BRAHMAPUTRA", "Beki"],
        }
    )

    found = upstream_indices(codes, levels, stations, max_upstream=2)

    assert found == [[1, 2], [2], [], []]
    assert upstream_indices(codes, levels, None, max_upstream=2) == [[], [], [], []]


def test_config_round_trips_and_rejects_unknown_settings():
    config = RegressionConfig(window_h=200, ridge=3.0)

    assert RegressionConfig.from_dict(config.to_dict()) == config
    with pytest.raises(TypeError, match="window"):
        RegressionConfig.from_dict({"windows_h": 10})


def test_wrong_recent_reading_does_not_run_away():
    history = _synthetic(240, daily_amplitude_m=0.5)
    history.loc[235, "level_m"] = 500.0

    forecast = AdaptiveRegressionForecaster().predict(history, issued_at=ISSUED)

    assert forecast["p50_m"].max() < 52.0
    assert forecast["p50_m"].min() > 48.0


def test_stations_without_river_column_have_no_upstream():
    history = _synthetic(240, daily_amplitude_m=0.5)
    stations = pd.DataFrame({"station_code": ["X-1"]})

    forecast = AdaptiveRegressionForecaster(version="t").predict(
        history, issued_at=ISSUED, stations=stations
    )

    assert set(forecast["model"]) == {"upstream_regression-t"}
