"""``argus backtest`` on the first six recorded CWC polls (2026-07-27..28 IST)."""

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from argus.cli import app

LEVELS = {"NORMAL", "WATCH", "WARNING", "EMERGENCY"}


@pytest.fixture(scope="module")
def recorded_run(shared_data, tmp_path_factory):
    snapshots = sorted((shared_data / "cwc_ffs" / "snapshots").glob("ffs_*.json.gz"))
    cut = tmp_path_factory.mktemp("cut")
    for path in snapshots[:6]:
        shutil.copyfile(path, cut / path.name)
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--replay", str(cut),
            "--out", str(out),
            "--stations", str(shared_data / "cwc_ffs" / "stations_assam.json"),
            "--villages", str(shared_data / "geo" / "assam_osm_places.json"),
            "--circles", str(shared_data / "geo" / "assam_revenue_circles.geojson"),
            "--asdma", str(
                shared_data / "asdma" / "reports_2026"
                / "asdma_2026-07-27_extractor-v7-circles.csv"
            ),
            "--drims", str(
                shared_data / "revenue_circles" / "monthly"
                / "drims_population_affected_monthly_rc.csv"
            ),
        ],
    )  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    return result, metrics, out


def test_recorded_cut_exits_cleanly(recorded_run):
    result, _, out = recorded_run
    assert result.exit_code == 0, result.output
    assert f"backtest written to {out}" in result.stdout


def test_recorded_cut_counts(recorded_run):
    _, metrics, out = recorded_run
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert metrics["files"]["snapshots"] == 6
    assert metrics["files"]["skipped"] == []
    # 2026-07-27 15:00 to 2026-07-28 21:00 IST, hourly.
    assert metrics["instants"]["issue_hours"] == 31
    # The last hour's forecasts are all valid after the last poll of the cut.
    assert metrics["instants"]["scored"] == 30
    assert metrics["forecast_rows"] == len(forecasts)
    assert metrics["models"]["persistence_trend"]["share"] == 1.0


def test_recorded_cut_scores_same_pairs(recorded_run):
    _, metrics, _ = recorded_run
    for name in ("1-6", "7-12", "13-24"):
        bucket = metrics["buckets"][name]
        assert bucket["argus"]["n"] > 0, name
        assert bucket["argus"]["n"] == bucket["persistence"]["n"], name
        assert 0 <= bucket["argus"]["within_0_15"] <= 1, name
    official = metrics["official"]["buckets"]["1-24"]
    assert official["pairs"] > 0
    low, high = official["mae_difference_90ci_m"]
    assert low <= high


def test_recorded_cut_ignores_early_slip(recorded_run):
    _, _, out = recorded_run
    forecasts = pd.read_csv(out / "forecasts.csv")
    # Guwahati D.C. Court was first published as 8.04 m at 2026-07-27
    # 11:00..14:00 IST and later as 48.04 m; the contracts reject the slip.
    guwahati = forecasts[forecasts["station_code"] == "001-MBDGHY"]
    assert len(guwahati) > 0
    assert guwahati["level_m"].between(45.0, 51.0).all()


def test_recorded_cut_writes_alerts(recorded_run):
    _, metrics, out = recorded_run
    alerts = pd.read_csv(out / "alerts.csv")
    assert list(alerts.columns) == [
        "village_id",
        "issued_at",
        "level",
        "previous_level",
        "reasons",
    ]
    assert len(alerts) == metrics["alerts"]["rows"]
    assert len(alerts) > 0
    assert set(alerts["level"]) <= LEVELS
    assert all(isinstance(json.loads(r), list) for r in alerts["reasons"])


def test_recorded_cut_checks_circles(recorded_run):
    _, metrics, _ = recorded_run
    circles = metrics["revenue_circles"]
    assert circles["window_ist"] == ["2026-07-27", "2026-07-28"]
    # The cut's issue hours run from 2026-07-27 15:00 to 07-28 21:00 IST.
    assert circles["issue_hours_in_window"] == 31
    asdma = circles["against"]["asdma"]
    # The ASDMA report of 2026-07-27 lists 20 circles with people or villages
    # affected (27 rows, 7 of them with none).
    assert asdma["affected"] == 20
    assert asdma["hits"] + asdma["misses"] == asdma["affected"]
    assert asdma["hits"] + asdma["false_alarms"] == len(circles["circles_warned"])
    assert 0 <= asdma["probability_of_detection"] <= 1
    assert circles["caveats"]


def test_cli_rejects_end_before_start(tmp_path):
    result = CliRunner().invoke(
        app,
        ["backtest", "--replay", str(tmp_path), "--out", str(tmp_path / "o"),
         "--start", "2026-07-28T00:00+05:30", "--end", "2026-07-27T00:00+05:30"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is before --start" in result.stderr


def test_cli_rejects_partial_circle_check(tmp_path):
    asdma = tmp_path / "asdma.csv"
    asdma.write_text("report_date\n")
    result = CliRunner().invoke(
        app,
        ["backtest", "--replay", str(tmp_path), "--out", str(tmp_path / "o"),
         "--asdma", str(asdma)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "needs all of --circles, --asdma and --drims" in result.stderr


def test_cli_empty_folder_fails(tmp_path):
    (tmp_path / "polls").mkdir()
    result = CliRunner().invoke(
        app,
        ["backtest", "--replay", str(tmp_path / "polls"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1
    assert "no issue hour could be scored" in result.stderr
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["instants"]["scored"] == 0


def test_recorded_cut_writes_scored_rows(recorded_run):
    _, metrics, out = recorded_run
    scored = pd.read_csv(out / "scored.csv.gz")
    pairs = pd.read_csv(out / "official_pairs.csv")

    by_bucket = sum(metrics["buckets"][b]["argus"]["n"] for b in metrics["buckets"])
    assert len(scored) == by_bucket
    assert scored[["observed_m", "persistence_m"]].notna().all().all()
    assert len(pairs) == metrics["official"]["buckets"]["1-24"]["pairs"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--start", "2026-09-01T00:00+05:30", "is after the last snapshot"),
        ("--end", "2026-07-01T00:00+05:30", "is before the first snapshot"),
    ],
)
def test_cli_rejects_window_outside_snapshots(
    shared_data, tmp_path, option, value, message
):
    snapshots = sorted((shared_data / "cwc_ffs" / "snapshots").glob("ffs_*.json.gz"))
    for path in snapshots[:2]:
        shutil.copyfile(path, tmp_path / path.name)

    result = CliRunner().invoke(
        app,
        ["backtest", "--replay", str(tmp_path), "--out", str(tmp_path / "o"),
         option, value],
    )  # fmt: skip

    assert result.exit_code == 2
    assert message in result.stderr
    assert "the snapshots run from 2026-07-27" in result.stderr
