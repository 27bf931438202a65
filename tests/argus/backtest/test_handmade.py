"""The backtest's metrics against numbers computed here from the hand-made truth."""

import json

import numpy as np
import pandas as pd
import pytest

from argus.backtest.run import BacktestRequest, run_backtest
from argus.settings import Settings
from models.baseline import PersistenceTrendForecaster
from tests.argus.backtest import handmade

BUCKETS = {"1-6": (1, 6), "7-12": (7, 12), "13-24": (13, 24)}


@pytest.fixture(scope="module")
def handmade_run(handmade_folder, scratch_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    request = BacktestRequest(
        replay_dir=handmade_folder, out_dir=out, database_url=scratch_url
    )
    metrics = run_backtest(
        request,
        forecaster=PersistenceTrendForecaster(),
        settings=Settings(home=out / "home"),
    )
    forecasts = pd.read_csv(out / "forecasts.csv")
    written = json.loads((out / "metrics.json").read_text())
    return metrics, written, forecasts


def _hour(times: pd.Series) -> np.ndarray:
    start = handmade.hour_time(0)
    return ((pd.to_datetime(times) - start) / pd.Timedelta(hours=1)).to_numpy()


def _expected_rows(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Forecast rows with the hand-made truth and persistence beside them."""
    truth = handmade.true_levels()
    rows = forecasts.assign(
        code=forecasts["station_code"].str.strip().str.upper(),
        issue_hour=_hour(forecasts["issued_at"]).round().astype(int),
        valid_hour=_hour(forecasts["valid_at"]).round().astype(int),
    )
    # Hours after the last poll were never published, so they have no truth.
    rows = rows[rows["valid_hour"] <= handmade.poll_hours()[-1]].copy()
    rows["observed"] = [truth[c][h] for c, h in zip(rows["code"], rows["valid_hour"])]
    rows["persistence"] = [
        _persistence(c, h) for c, h in zip(rows["code"], rows["issue_hour"])
    ]
    return rows


def _persistence(code: str, issue_hour: int) -> float:
    for hour in range(issue_hour, -1, -1):
        value = handmade.visible_value(code, hour, issue_hour)
        if value is not None:
            return value
    raise AssertionError(f"no level of {code} visible at hour {issue_hour}")


def _scores(forecast, observed, stations) -> dict:
    error = forecast - observed
    nse = []
    for station in np.unique(stations):
        f, o = forecast[stations == station], observed[stations == station]
        if len(o) >= 10 and np.var(o) > 0:
            nse.append(1 - np.sum((f - o) ** 2) / np.sum((o - o.mean()) ** 2))
    return {
        "n": len(error),
        "mae_m": np.mean(np.abs(error)),
        "rmse_m": np.sqrt(np.mean(error**2)),
        "within_0_15": np.mean(np.abs(error) <= 0.15 + 1e-9),
        "nse_median": np.median(nse),
    }


def test_handmade_writes_stripped_codes(handmade_run):
    _, _, forecasts = handmade_run
    assert set(forecasts["station_code"]) == {"001-testa", "002-TESTB"}
    assert forecasts["issued_at"].str.endswith("+00:00").all()
    assert list(forecasts.columns) == [
        "station_code",
        "issued_at",
        "valid_at",
        "lead_h",
        "level_m",
        "p10_m",
        "p90_m",
        "model",
    ]


def test_handmade_counts_instants(handmade_run):
    metrics, written, forecasts = handmade_run
    first, last = handmade.poll_hours()[0], handmade.poll_hours()[-1]
    assert metrics["instants"]["issue_hours"] == last - first + 1
    # The last issue hour's valid times all lie after the last poll.
    assert metrics["instants"]["scored"] == last - first
    assert written["instants"] == metrics["instants"]
    assert len(forecasts) == 2 * 24 * (last - first + 1)
    assert metrics["models"] == {
        "persistence_trend": {"rows": len(forecasts), "share": 1.0}
    }


def test_handmade_skill_matches_independent(handmade_run):
    metrics, _, forecasts = handmade_run
    rows = _expected_rows(forecasts)

    for name, (low, high) in BUCKETS.items():
        part = rows[rows["lead_h"].between(low, high)]
        stations = part["code"].to_numpy()
        argus = _scores(
            part["level_m"].to_numpy(), part["observed"].to_numpy(), stations
        )
        persistence = _scores(
            part["persistence"].to_numpy(), part["observed"].to_numpy(), stations
        )
        reported = metrics["buckets"][name]
        for key, value in argus.items():
            assert reported["argus"][key] == pytest.approx(value, abs=2e-4), (name, key)
        for key, value in persistence.items():
            assert reported["persistence"][key] == pytest.approx(value, abs=2e-4), (
                name,
                key,
            )
        inside = part["observed"].between(part["p10_m"], part["p90_m"]).mean()
        assert reported["argus"]["p10_p90_coverage"] == pytest.approx(inside, abs=2e-4)


def test_handmade_truth_skips_rejected_slip(handmade_run):
    metrics, _, forecasts = handmade_run
    rows = _expected_rows(forecasts)
    slip_rows = rows[(rows["code"] == handmade.CODE_A) & (rows["valid_hour"] == 20)]
    # Issued at hours 2..19: from the first poll to one hour before.
    assert len(slip_rows) == 18
    # The slip of 5 m would give errors of about 45 m; the truth is the correction.
    assert metrics["buckets"]["1-6"]["argus"]["mae_m"] < 1.0


def test_handmade_matches_official_forecasts(handmade_run):
    metrics, _, forecasts = handmade_run
    truth = handmade.true_levels()[handmade.CODE_A]
    a = forecasts[forecasts["station_code"] == "001-testa"]
    issued_10 = handmade.hour_time(10).isoformat()

    def argus_at(lead):
        row = a[(a["issued_at"] == issued_10) & (a["lead_h"] == lead)]
        return float(row["level_m"].iloc[0])

    official = metrics["official"]
    assert official["forecasts"] == 5
    assert official["set_aside_stations"] == [handmade.CODE_A]
    assert official["unmatched"] == {
        "implausible_level": 1,
        "lead_outside_1_24h": 1,
        "no_argus_forecast": 1,
        "no_truth": 0,
    }
    short, medium = official["buckets"]["1-6"], official["buckets"]["7-12"]
    assert short["pairs"] == 1
    assert medium["pairs"] == 1
    assert official["buckets"]["13-24"]["pairs"] == 0
    assert short["cwc_mae_m"] == pytest.approx(abs(51.0 - truth[16]), abs=1e-4)
    assert short["argus_mae_m"] == pytest.approx(abs(argus_at(6) - truth[16]), abs=2e-4)
    assert medium["cwc_mae_m"] == pytest.approx(abs(51.5 - truth[22]), abs=1e-4)
    assert medium["argus_mae_m"] == pytest.approx(
        abs(argus_at(12) - truth[22]), abs=2e-4
    )
    both = official["buckets"]["1-24"]
    difference = (
        abs(argus_at(6) - truth[16])
        + abs(argus_at(12) - truth[22])
        - abs(51.0 - truth[16])
        - abs(51.5 - truth[22])
    ) / 2
    assert both["mae_difference_m"] == pytest.approx(difference, abs=2e-4)
    # Both pairs are station A's on 2026-07-01 IST: one station-day, which a
    # cluster bootstrap cannot resample into an interval.
    assert both["bootstrap_clusters"] == 1
    assert both["mae_difference_90ci_m"] is None
    assert official["bootstrap"]["resampled_unit"].startswith("station-day")
