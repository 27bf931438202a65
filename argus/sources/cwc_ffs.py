"""The live connector to the public CWC flood forecasting (FFS) API.

One cycle (:meth:`CwcFfsClient.fetch_batch`) reads the newest level of every
station (the backbone), then, on a pool of ``concurrency`` threads, the hourly
series of each station whose newest level is later than ``since``, CWC's
above-warning list and its official forecasts. The backbone failing stops the
cycle; any other call failing is recorded in ``GaugeBatch.failures`` and the
cycle goes on.

Connection errors, timeouts and HTTP 5xx are retried with exponential backoff
and jitter; HTTP 4xx is not. The query language is described in
``cwc_ffs_api.md``.
"""

import json
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import httpx
import pandas as pd

from argus.errors import PayloadError, SourceError, SourceUnavailable
from argus.sources.cwc_payload import (
    GaugeBatch,
    empty_forecasts,
    format_ffs_time,
    merge_observations,
    parse_above_warning,
    parse_forecasts,
    parse_latest_levels,
    parse_series,
    require_aware,
)
from argus.stations import (
    STATION_TYPES,
    normalise_station_code,
    stations_from_reference_tables,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://ffs.india-water.gov.in"
ABOVE_WARNING_PATH = "/ffm/api/station-water-level-above-warning/"
LATEST_LEVELS = "new-entry-data-aggregate"
_TYPE_FIELD = "floodForecastStaticStationCode.type"

Clause = tuple[str, str, str]
"""(field name, operator, value) of one specification clause."""


def specification(where: Clause, and_: Clause | None = None) -> str:
    """The JSON text of a FFS ``specification`` query.

    Parameters
    ----------
    where : tuple of str
        (field, operator, value), such as ``("id.stationCode", "eq", "002-LBDJPG")``;
        operator ``eq``, ``gt`` or ``in`` (for ``in``, one comma-joined value).
    and_ : tuple of str, optional
        A second clause that must hold too.
    """
    query = {"where": _expression(*where)}
    if and_ is not None:
        query["and"] = _expression(*and_)
    return json.dumps(query, separators=(",", ":"))


def _expression(field_name: str, operator: str, value: str) -> dict[str, Any]:
    return {
        "expression": {
            "valueIsRelationField": False,
            "fieldName": field_name,
            "operator": operator,
            "value": value,
        }
    }


@dataclass
class _Part:
    """The outcome of one best-effort call: a frame (or None) or an error."""

    source: str
    frame: pd.DataFrame | None
    error: SourceError | None


class CwcFfsClient:
    """Client of the CWC FFS API.

    Parameters
    ----------
    base_url : str, optional
        Root of the site.
    timeout_s : float, optional
        Timeout of one request [s].
    retries : int, optional
        Retries after the first attempt on connection errors, timeouts and 5xx.
    backoff_s : float, optional
        First retry delay [s]; doubled at each retry, plus up to one
        ``backoff_s`` of random jitter.
    concurrency : int, optional
        Most requests in flight at once during a cycle.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 2.0,
        concurrency: int = 4,
    ) -> None:
        if retries < 0 or concurrency < 1 or timeout_s <= 0 or backoff_s < 0:
            raise ValueError(
                f"retries={retries!r}, concurrency={concurrency!r}, "
                f"timeout_s={timeout_s!r}, backoff_s={backoff_s!r}: expected "
                "retries >= 0, concurrency >= 1, timeout_s > 0, backoff_s >= 0"
            )
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.concurrency = concurrency
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers={"Accept": "application/json"},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def fetch_stations(self) -> pd.DataFrame:
        """Read the station reference table from the live reference tables.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`argus.stations.STATION_COLUMNS`, every station type.

        Raises
        ------
        SourceUnavailable, PayloadError
            If either table cannot be read.
        """
        types = ",".join(STATION_TYPES)
        static = self._spec("flood-forecast-static", ("type", "in", types))
        geo_field = f"layerStationStationCode.{_TYPE_FIELD}"
        geo = self._spec("layer-station-geo", (geo_field, "in", types))
        try:
            return stations_from_reference_tables(static, geo)
        except ValueError as error:
            raise PayloadError("reference tables", str(error)) from error

    def fetch_batch(
        self, *, since: datetime, station_codes: list[str] | None = None
    ) -> GaugeBatch:
        """Read one cycle of observations, CWC statuses and official forecasts.

        Parameters
        ----------
        since : datetime
            Aware time: series are read, from this time on, for the stations
            whose newest level is later; forecasts valid after it are read.
        station_codes : list of str, optional
            Stations to read (any spelling); all when None.

        Returns
        -------
        GaugeBatch
            Latest levels and series together in ``observations``.

        Raises
        ------
        SourceUnavailable
            If the latest levels cannot be read after the retries; the message
            names the base URL and the cause.
        PayloadError
            If the latest levels arrive malformed.
        """
        require_aware(since, name="since")
        latest = _only_stations(self._latest_levels(), station_codes)
        fresh = latest[latest["observed_at"] > pd.Timestamp(since)]
        codes = sorted(set(fresh["station_code_raw"]) - {""})
        logger.info(
            "CWC FFS: %d latest levels, %d stations newer than %s",
            len(latest),
            len(codes),
            since.isoformat(),
        )

        with ThreadPoolExecutor(self.concurrency) as pool:
            series = [pool.submit(self._series, code, since) for code in codes]
            above = pool.submit(self._above_warning)
            forecasts = pool.submit(self._forecasts, since)
            parts = [future.result() for future in series]
            above_part, forecast_part = above.result(), forecasts.result()

        return _assemble(latest, parts, above_part, forecast_part)

    def _latest_levels(self) -> pd.DataFrame:
        types = ",".join(STATION_TYPES)
        try:
            rows = self._spec(
                LATEST_LEVELS,
                ("id.datatypeCode", "eq", "HHS"),
                (f"stationCode.{_TYPE_FIELD}", "in", types),
            )
        except SourceUnavailable as error:
            raise SourceUnavailable(
                LATEST_LEVELS,
                f"CWC FFS at {self.base_url} could not be reached: {error.cause}",
            ) from error
        return parse_latest_levels(rows, source=LATEST_LEVELS)

    def _series(self, code: str, since: datetime) -> _Part:
        source = f"new-entry-data[{code}]"
        where = ("id.stationCode", "eq", code)
        after = ("id.dataTime", "gt", format_ffs_time(since))
        return _best_effort(
            source,
            lambda: parse_series(
                self._spec("new-entry-data", where, after), source=source
            ),
        )

    def _above_warning(self) -> _Part:
        source = "station-water-level-above-warning"
        return _best_effort(
            source,
            lambda: parse_above_warning(self._get(ABOVE_WARNING_PATH), source=source),
        )

    def _forecasts(self, since: datetime) -> _Part:
        # NOTE: FFS has answered 500 to this query when the time reached back
        # far (forecasts whose aggregate row was deleted); best effort only.
        source = "new-forecasted-entry-data"
        where = ("id.forecastedDate", "gt", format_ffs_time(since))
        return _best_effort(
            source,
            lambda: parse_forecasts(self._spec(source, where), source=source),
        )

    def _spec(self, resource: str, where: Clause, and_: Clause | None = None) -> Any:
        """GET ``/iam/api/<resource>/specification/`` with a filter."""
        return self._get(
            f"/iam/api/{resource}/specification/",
            params={"specification": specification(where, and_)},
        )

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET and decode JSON, retrying where the world is flaky."""
        call = path.strip("/").split("/")[2]
        for attempt in range(self.retries + 1):
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as error:
                cause = str(error) or type(error).__name__
            else:
                if response.status_code < 500:
                    return _decode(call, response)
                cause = f"HTTP {response.status_code}"
            if attempt < self.retries:
                delay_s = self.backoff_s * (2**attempt + random.random())
                logger.warning(
                    "CWC FFS %s attempt %d failed (%s); retrying in %.2f s",
                    call,
                    attempt + 1,
                    cause,
                    delay_s,
                )
                time.sleep(delay_s)
        raise SourceUnavailable(call, f"{cause} after {self.retries + 1} attempts")


def _best_effort(source: str, read: Callable[[], pd.DataFrame | None]) -> _Part:
    """Run one call; a SourceError becomes a recorded failure."""
    try:
        return _Part(source, read(), None)
    except SourceError as error:
        logger.warning("CWC FFS %s failed this cycle: %s", source, error.cause)
        return _Part(source, None, error)


def _decode(call: str, response: httpx.Response) -> Any:
    """The JSON of a non-5xx answer, or PayloadError saying what it is instead."""
    if response.status_code >= 400:
        excerpt = response.text[:200]
        raise PayloadError(call, f"HTTP {response.status_code}: {excerpt!r}")
    body = response.content
    if not body.strip():
        raise PayloadError(call, "answered HTTP 200 with an empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadError(call, f"answer is not UTF-8 ({error.reason})") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        kind = "an HTML page" if text.lstrip().startswith("<") else "invalid JSON"
        raise PayloadError(
            call, f"answer is {kind}, not JSON ({error.msg} at char {error.pos})"
        ) from error


def _only_stations(latest: pd.DataFrame, codes: list[str] | None) -> pd.DataFrame:
    if codes is None:
        return latest
    wanted = {normalise_station_code(code) for code in codes}
    return latest[latest["station_code"].isin(wanted)].reset_index(drop=True)


def _assemble(
    latest: pd.DataFrame, series: list[_Part], above: _Part, forecasts: _Part
) -> GaugeBatch:
    parts = [*series, above, forecasts]
    frames = [part.frame for part in series if part.frame is not None]
    return GaugeBatch(
        observations=merge_observations([*frames, latest]),
        above_warning=above.frame,
        official_forecasts=(
            empty_forecasts() if forecasts.frame is None else forecasts.frame
        ),
        failures=[part.error for part in parts if part.error is not None],
        sources_read=[LATEST_LEVELS] + [p.source for p in parts if p.error is None],
    )
