"""Village features on Dask, and the Dask clients they run on."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from argus.compute import dask_client
from argus.errors import ConfigurationError
from argus.features import build_features, gauge_features

NOW = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
NAN = np.nan


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dask_client(n_threads=2) as client:
        yield client


def _gauges() -> pd.DataFrame:
    rows = [
        ("G1", 50.0, NOW - timedelta(hours=1), 0.1, 48.0, 49.5, 51.0),
        ("G2", 40.0, NOW - timedelta(hours=6), 0.0, NAN, 45.0, NAN),
        ("G3", 30.0, NOW - timedelta(hours=6, minutes=1), 0.0, 29.0, 31.0, 32.0),
        ("G4", 20.0, NOW + timedelta(hours=1), 0.0, 21.0, 22.0, 23.0),
    ]
    columns = [
        "station_code",
        "level_m",
        "observed_at",
        "rate_m_per_h",
        "warning_level_m",
        "danger_level_m",
        "highest_flood_level_m",
    ]
    return pd.DataFrame(rows, columns=columns)


def _forecasts() -> pd.DataFrame:
    p50 = {"G1": [50.5, 51.0, 51.2], "G2": [40.0, 41.0, 46.0]}
    rows = [
        (code, lead, level - 0.5, level, level + 0.5)
        for code, levels in p50.items()
        for lead, level in zip((1, 2, 3), levels, strict=True)
    ]
    return pd.DataFrame(
        rows, columns=["station_code", "lead_time_h", "p10_m", "p50_m", "p90_m"]
    )


def _villages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_id": ["v1", "v2", "v3", "v4", "v5", "v6"],
            "station_code": ["G1", "G2", "G3", None, "GX", "G4"],
        }
    )


def test_build_features_is_chunked_along_village(client: Client) -> None:
    features = build_features(
        _villages(), _gauges(), _forecasts(), now=NOW, chunk_villages=4
    )

    assert features["level_m"].chunks == ((4, 2),)
    assert features["p50_m"].dims == ("village", "lead_time_h")
    assert features["lead_time_h"].to_numpy().tolist() == [1, 2, 3]
    codes = features["station_code"].to_numpy()
    assert pd.isna(codes).tolist() == [False, False, False, True, False, False]
    assert codes[[0, 4]].tolist() == ["G1", "GX"]


def test_build_features_gathers_each_village_gauge(client: Client) -> None:
    features = build_features(_villages(), _gauges(), _forecasts(), now=NOW).compute()
    v1 = features.sel(village="v1")

    assert float(v1["level_m"]) == 50.0
    assert float(v1["age_h"]) == 1.0
    assert float(v1["level_minus_danger_m"]) == pytest.approx(0.5)
    assert float(v1["level_minus_hfl_m"]) == pytest.approx(-1.0)
    assert float(v1["forecast_max_p50_m"]) == 51.2
    assert float(v1["forecast_max_p90_m"]) == 51.7
    assert float(v1["p50_reaches_hfl_h"]) == 2.0
    assert float(v1["p90_reaches_warning_h"]) == 1.0
    assert features["p50_m"].sel(village="v2").to_numpy().tolist() == [40, 41, 46]
    assert float(features["p50_reaches_danger_h"].sel(village="v2")) == 3.0


def test_build_features_nan_threshold_is_never_reached(client: Client) -> None:
    features = build_features(_villages(), _gauges(), _forecasts(), now=NOW).compute()
    v2 = features.sel(village="v2")

    assert np.isnan(float(v2["p90_reaches_warning_h"]))
    assert np.isnan(float(v2["p50_reaches_hfl_h"]))
    assert np.isnan(float(v2["level_minus_warning_m"]))


def test_build_features_usable_only_within_6_h(client: Client) -> None:
    features = build_features(_villages(), _gauges(), _forecasts(), now=NOW).compute()

    assert features["usable"].to_numpy().tolist() == [
        True,  # 1 h old
        True,  # exactly 6 h old
        False,  # 6 h 1 min old
        False,  # no reference gauge
        False,  # reference gauge has no reading
        False,  # reading after the cycle time
    ]
    assert np.isnan(float(features["level_m"].sel(village="v4")))
    assert features.attrs == {"now": "2026-08-01T06:30:00+00:00", "max_age_h": 6.0}


def test_build_features_max_age_is_a_parameter(client: Client) -> None:
    features = build_features(
        _villages(), _gauges(), _forecasts(), now=NOW, max_age_h=12
    )

    assert features["usable"].sum().compute() == 3


def test_gauge_features_without_forecasts_has_no_lead_times() -> None:
    empty = _forecasts().iloc[:0]

    table = gauge_features(_gauges(), empty, now=NOW)

    assert table.sizes["lead_time_h"] == 0
    assert np.isnan(table["forecast_max_p50_m"].to_numpy()).all()


def test_build_features_rejects_a_naive_time() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        build_features(
            _villages(), _gauges(), _forecasts(), now=NOW.replace(tzinfo=None)
        )


def test_build_features_names_missing_columns() -> None:
    with pytest.raises(
        ValueError, match=r"gauges lacks column\(s\) \['rate_m_per_h'\]"
    ):
        build_features(
            _villages(), _gauges().drop(columns="rate_m_per_h"), _forecasts(), now=NOW
        )


def test_dask_client_connects_to_an_existing_scheduler() -> None:
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        dask_client(cluster.scheduler_address) as client,
    ):
        assert client.scheduler.address == cluster.scheduler_address
        assert client.submit(sum, [1, 2]).result() == 3


def test_dask_client_unreachable_scheduler_is_a_configuration_error() -> None:
    unreachable = dask_client("tcp://127.0.0.1:9", connect_timeout_s=0.5)
    with (
        pytest.raises(ConfigurationError, match="cannot reach the Dask scheduler"),
        unreachable,
    ):
        pass


def test_dask_client_gpu_needs_dask_cuda() -> None:
    try:
        import dask_cuda  # noqa: F401
    except ImportError:
        missing = pytest.raises(
            ConfigurationError, match="needs the package 'dask_cuda'"
        )
        with missing, dask_client(gpu=True):
            pass
    else:
        pytest.skip("dask_cuda is installed here")


def test_dask_client_refuses_address_and_gpu_together() -> None:
    both = pytest.raises(ConfigurationError, match="drop one of the two")
    with both, dask_client("tcp://127.0.0.1:8786", gpu=True):
        pass
