"""Dask clients of the feature computation."""

from argus.compute import dask_client


def test_dask_client_reuses_open_client():
    with dask_client(n_threads=1) as outer:
        with dask_client() as inner:
            assert inner is outer
        assert outer.status == "running"
