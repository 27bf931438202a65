"""Dask clients for the feature computation.

One entry point, :func:`dask_client`: an existing scheduler when an address is
configured (``ARGUS_DASK_ADDRESS``), a GPU cluster when asked for and
``dask_cuda`` is installed, the client already open in this process (so a
backtest that assesses villages every simulated hour starts one cluster, not
hundreds), else an in-process LocalCluster of threads. Threads
suit the cycle: the work is numpy gathers that release the GIL, and nothing is
pickled between processes.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster, default_client

from argus.errors import ConfigurationError

logger = logging.getLogger(__name__)


@contextmanager
def dask_client(
    address: str | None = None,
    *,
    gpu: bool = False,
    n_threads: int | None = None,
    connect_timeout_s: float = 10.0,
) -> Iterator[Client]:
    """Open a Dask client for the duration of a ``with`` block.

    Parameters
    ----------
    address
        Scheduler address (``tcp://host:8786``). None or empty reuses the
        client already open in this process, else starts a local cluster that
        is closed again on exit.
    gpu
        Start a ``dask_cuda.LocalCUDACluster`` instead of the CPU cluster.
    n_threads
        Threads of the local CPU cluster; default: the CPU count.
    connect_timeout_s
        How long to try to reach the scheduler at ``address`` [s].

    Yields
    ------
    distributed.Client
        The client; it is also the default Dask scheduler inside the block.

    Raises
    ------
    ConfigurationError
        When both ``address`` and ``gpu`` are given, ``dask_cuda`` is missing
        for ``gpu=True``, or the scheduler at ``address`` cannot be reached.
    """
    if address and gpu:
        raise ConfigurationError(
            f"address {address!r} and gpu=True were both given; an existing "
            "scheduler brings its own workers, so drop one of the two"
        )
    if address:
        with _connect(address, timeout_s=connect_timeout_s) as client:
            yield client
        return
    if not gpu:
        current = _current_client()
        if current is not None:
            yield current
            return
    cluster = _local_cluster(gpu=gpu, n_threads=n_threads)
    with cluster, Client(cluster) as client:
        yield client


def _current_client() -> Client | None:
    """Return the default client of this process, or None when there is none."""
    try:
        return default_client()
    except ValueError:
        return None


@contextmanager
def _connect(address: str, *, timeout_s: float) -> Iterator[Client]:
    try:
        client = Client(address, timeout=timeout_s)
    except (OSError, TimeoutError) as error:
        raise ConfigurationError(
            f"cannot reach the Dask scheduler at {address!r} ({error}); check "
            "ARGUS_DASK_ADDRESS or leave it empty to compute locally"
        ) from error
    logger.info("connected to the Dask scheduler at %s", address)
    with client:
        yield client


def _local_cluster(*, gpu: bool, n_threads: int | None) -> LocalCluster:
    if gpu:
        try:
            dask_cuda = importlib.import_module("dask_cuda")
        except ImportError as error:
            raise ConfigurationError(
                "gpu=True needs the package 'dask_cuda', which is not installed; "
                "install the 'gpu' extra (pip install 'argus-flood[gpu]')"
            ) from error
        logger.info("starting a LocalCUDACluster")
        return dask_cuda.LocalCUDACluster(dashboard_address=":0")
    threads = n_threads or os.cpu_count() or 1
    logger.info("starting a local Dask cluster of %d threads", threads)
    return LocalCluster(
        n_workers=1,
        threads_per_worker=threads,
        processes=False,
        dashboard_address=":0",  # any free port: never clash with another cluster
    )
