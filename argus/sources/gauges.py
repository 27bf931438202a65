"""One interface over the gauge sources: the live CWC site or a replay folder."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import pandas as pd

from argus.errors import SourceUnavailable
from argus.settings import Settings
from argus.sources.cwc_ffs import CwcFfsClient
from argus.sources.cwc_payload import GaugeBatch
from argus.sources.replay import ReplaySource


class GaugeSource(Protocol):
    """Interface of a gauge source as a cycle uses it."""

    name: str

    def fetch_stations(self) -> pd.DataFrame: ...

    def fetch_batch(
        self,
        at: datetime,
        *,
        station_codes: list[str] | None = None,
        since: datetime | None = None,
    ) -> GaugeBatch: ...


class LiveCwcSource:
    """The live CWC FFS API, asked for the hours since ``since``.

    Without ``since``, a batch starts ``series_lookback_h`` before ``at``.
    """

    def __init__(self, settings: Settings) -> None:
        self.name = f"cwc_ffs {settings.cwc_base_url}"
        self.lookback = timedelta(hours=settings.series_lookback_h)
        self.client = CwcFfsClient(
            base_url=settings.cwc_base_url,
            timeout_s=settings.http_timeout_s,
            retries=settings.http_attempts - 1,
            backoff_s=settings.http_backoff_s,
            concurrency=settings.cwc_concurrency,
        )

    def fetch_stations(self) -> pd.DataFrame:
        try:
            return self.client.fetch_stations()
        except SourceUnavailable as error:
            raise self._unreachable(error) from error

    def fetch_batch(
        self,
        at: datetime,
        *,
        station_codes: list[str] | None = None,
        since: datetime | None = None,
    ) -> GaugeBatch:
        try:
            return self.client.fetch_batch(
                since=since or at - self.lookback, station_codes=station_codes
            )
        except SourceUnavailable as error:
            raise self._unreachable(error) from error

    def _unreachable(self, error: SourceUnavailable) -> SourceUnavailable:
        if "could not be reached" in error.cause:
            return error
        return SourceUnavailable(
            error.source,
            f"CWC FFS at {self.client.base_url} could not be reached: {error.cause}",
        )


class ReplayGaugeSource:
    """Recorded snapshots, seen as they were visible at the cycle time."""

    def __init__(self, snapshot_dir: Path, stations_file: Path | None = None) -> None:
        self.name = f"replay {snapshot_dir}"
        self.replay = ReplaySource(snapshot_dir, stations_file=stations_file)

    def fetch_stations(self) -> pd.DataFrame:
        return self.replay.fetch_stations()

    def fetch_batch(
        self,
        at: datetime,
        *,
        station_codes: list[str] | None = None,
        since: datetime | None = None,
    ) -> GaugeBatch:
        """Read the snapshots visible at ``at``; their files decide the hours."""
        return self.replay.fetch_batch(at)


def open_gauge_source(
    settings: Settings,
    *,
    replay_dir: str | None = None,
    stations_file: str | None = None,
) -> GaugeSource:
    """Open the replay source when ``replay_dir`` is given, else the live CWC site."""
    if replay_dir:
        return ReplayGaugeSource(
            Path(replay_dir), Path(stations_file) if stations_file else None
        )
    return LiveCwcSource(settings)
