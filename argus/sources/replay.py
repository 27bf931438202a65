"""Replay of recorded CWC FFS polls: the gauge source of backtests and demos.

A replay folder holds files named ``ffs_<YYYY-MM-DDTHHMM>[_N].json`` or
``.json.gz``. The name time (IST) is the newest record time inside the file, so
the file becomes visible at that time and not a minute earlier. ``_N`` marks a
later poll with the same name time; no suffix counts as 1.

At a time ``at``, :meth:`ReplaySource.fetch_batch` merges every visible file in
order of (name time, suffix): where two files disagree on one observation
(station, observed_at, datatype, FFS table) or one forecast (station,
issued_at, forecast_for), the later file wins, so CWC's revisions replace first
publications. The FFS table (``series`` or ``latest_levels``) is part of the
key because the two tables can disagree for days (030-MBDGHY at 2026-07-31
10:00 IST: 131.66 m in the series, 31.66 m as latest level in nine polls):
both values are kept for the data contract to judge.

CWC's above-warning list is taken from the latest visible file whose list is
non-empty, provided its name time is at most :data:`ABOVE_WARNING_MAX_AGE`
before ``at``; otherwise it is unknown (None): an empty list means the call
failed, not that no station was above warning.
"""

import gzip
import json
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from argus.errors import PayloadError, ReplayError, SourceError
from argus.sources.cwc_payload import (
    FORECAST_KEY,
    IST,
    OBSERVATION_KEY,
    GaugeBatch,
    empty_forecasts,
    merge_observations,
    parse_snapshot,
    require_aware,
)
from argus.stations import read_stations_file

logger = logging.getLogger(__name__)

ABOVE_WARNING_MAX_AGE = timedelta(hours=3)
"""Oldest above-warning list still served, before the replay time."""

STATIONS_FILE_NAMES = ("stations.json", "stations_assam.json")
_NAME = re.compile(r"^ffs_(\d{4}-\d{2}-\d{2}T\d{4})(?:_(\d+))?\.json(?:\.gz)?$")


def is_snapshot_name(name: str) -> bool:
    """Tell whether a file name has the snapshot form ``ffs_<time>[_N].json[.gz]``."""
    return _NAME.match(name) is not None


@dataclass(frozen=True)
class _Snapshot:
    path: Path
    visible_at: datetime
    number: int


class ReplaySource:
    """Recorded FFS polls served as they became visible.

    Parameters
    ----------
    snapshot_dir : Path
        Folder of ``ffs_*.json[.gz]`` files.
    stations_file : Path, optional
        Station reference file; by default looked up next to the snapshots
        (see :meth:`fetch_stations`).

    Raises
    ------
    ReplayError
        If ``snapshot_dir`` is not a folder.
    """

    def __init__(
        self, snapshot_dir: Path, *, stations_file: Path | None = None
    ) -> None:
        self.snapshot_dir = Path(snapshot_dir)
        self.stations_file = stations_file
        if not self.snapshot_dir.is_dir():
            raise ReplayError(
                f"replay folder {str(self.snapshot_dir)!r} does not exist or is "
                "not a folder; pass the folder of ffs_*.json.gz snapshots"
            )
        self._parsed: dict[tuple[Path, float, int], GaugeBatch | SourceError] = {}

    def visible_files(self, at: datetime) -> list[Path]:
        """Snapshot files visible at ``at``, oldest first.

        Parameters
        ----------
        at : datetime
            Aware replay time.

        Returns
        -------
        list of Path
            Sorted by (name time, suffix number).
        """
        require_aware(at, name="at")
        return [s.path for s in self._snapshots() if s.visible_at <= at]

    def require_visible(self, at: datetime) -> None:
        """Raise ReplayError, naming the earliest time, when no file is visible."""
        if not self.visible_files(at):
            raise ReplayError(self._nothing_visible(at))

    def snapshot_times(self) -> list[datetime]:
        """Distinct name times of the snapshots (UTC), oldest first."""
        return sorted({s.visible_at for s in self._snapshots()})

    def earliest_time(self) -> datetime:
        """Name time of the first snapshot (UTC)."""
        return self._all_snapshots()[0].visible_at

    def latest_time(self) -> datetime:
        """Name time of the last snapshot (UTC)."""
        return self._all_snapshots()[-1].visible_at

    def fetch_batch(self, at: datetime) -> GaugeBatch:
        """Everything the recorded polls had published by ``at``.

        Parameters
        ----------
        at : datetime
            Aware replay time.

        Returns
        -------
        GaugeBatch
            Merged observations and forecasts (later file wins), the recent
            above-warning list or None, unreadable files in ``failures``.

        Raises
        ------
        ReplayError
            If no snapshot is visible at ``at``.
        ValueError
            If ``at`` has no time zone.
        """
        require_aware(at, name="at")
        snapshots = [s for s in self._snapshots() if s.visible_at <= at]
        if not snapshots:
            raise ReplayError(self._nothing_visible(at))

        batches, failures = [], []
        for snapshot in snapshots:
            result = self._parse(snapshot.path)
            if isinstance(result, SourceError):
                failures.append(result)
            else:
                batches.append((snapshot, result))

        return GaugeBatch(
            observations=_latest_wins(
                [_with_table(b.observations) for _, b in batches],
                (*OBSERVATION_KEY, "_table"),
            ),
            above_warning=_recent_above_warning(batches, at),
            official_forecasts=_latest_wins(
                [b.official_forecasts for _, b in batches], FORECAST_KEY
            ),
            failures=failures,
            sources_read=[s.path.name for s, _ in batches],
        )

    def fetch_stations(self) -> pd.DataFrame:
        """The replay's station reference table.

        ``stations_file`` if given, else the first existing of
        ``snapshot_dir/stations.json``, ``snapshot_dir/stations_assam.json`` and
        ``snapshot_dir.parent/stations_assam.json`` (the recorded layout).

        Raises
        ------
        ReplayError
            If no station file is found.
        """
        candidates = [self.snapshot_dir / name for name in STATIONS_FILE_NAMES]
        candidates.append(self.snapshot_dir.parent / "stations_assam.json")
        if self.stations_file is not None:
            candidates = [Path(self.stations_file)]
        for candidate in candidates:
            if candidate.is_file():
                return read_stations_file(candidate)
        raise ReplayError(
            f"no station file found at {[str(c) for c in candidates]}; pass "
            "the station reference file with --stations FILE (the format of "
            "CWC's stations_assam.json)"
        )

    def _snapshots(self) -> list[_Snapshot]:
        found = []
        for path in self.snapshot_dir.iterdir():
            match = _NAME.match(path.name)
            if match and path.is_file():
                try:
                    naive = datetime.strptime(match[1], "%Y-%m-%dT%H%M")
                    visible_at = naive.replace(tzinfo=IST).astimezone(UTC)
                except (ValueError, OverflowError) as error:
                    logger.warning(
                        "replay file %s skipped: invalid time in its name (%s)",
                        path.name,
                        error,
                    )
                    continue
                number = int(match[2]) if match[2] else 1
                found.append(_Snapshot(path, visible_at, number))
        return sorted(found, key=lambda s: (s.visible_at, s.number, s.path.name))

    def _all_snapshots(self) -> list[_Snapshot]:
        snapshots = self._snapshots()
        if not snapshots:
            raise ReplayError(
                f"replay folder {str(self.snapshot_dir)!r} holds no "
                "ffs_<YYYY-MM-DDTHHMM>[_N].json[.gz] files"
            )
        return snapshots

    def _nothing_visible(self, at: datetime) -> str:
        earliest = self.earliest_time().astimezone(IST)
        return (
            f"no snapshot in {str(self.snapshot_dir)!r} is visible at "
            f"{at.astimezone(IST).isoformat()}; the earliest becomes visible at "
            f"{earliest.isoformat()}: replay from then on"
        )

    def _parse(self, path: Path) -> GaugeBatch | SourceError:
        """Parse one file, cached by (path, mtime, size)."""
        stat = path.stat()
        key = (path, stat.st_mtime, stat.st_size)
        if key not in self._parsed:
            try:
                self._parsed[key] = parse_snapshot(_read_json(path), source=path.name)
            except PayloadError as error:
                logger.warning("replay file %s unreadable: %s", path.name, error.cause)
                self._parsed[key] = error
        return self._parsed[key]


def _read_json(path: Path) -> object:
    """Decode one snapshot file, or raise PayloadError naming the cause."""
    try:
        raw = path.read_bytes()
        body = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error) as error:
        raise PayloadError(path.name, f"cannot be decompressed ({error})") from error
    if not body.strip():
        raise PayloadError(path.name, "is empty")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise PayloadError(path.name, f"is not UTF-8 ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise PayloadError(
            path.name, f"is not JSON ({error.msg} at char {error.pos})"
        ) from error


def _latest_wins(frames: list[pd.DataFrame], key: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate frames (oldest first); for each key keep the last frame's rows.

    Rows whose key has a missing time are all kept; rows identical but for
    their source are kept once.
    """
    numbered = [f.assign(_order=i) for i, f in enumerate(frames) if not f.empty]
    if not numbered:
        return merge_observations([]) if "observed_at" in key else empty_forecasts()
    merged = pd.concat(numbered, ignore_index=True)
    newest = merged.groupby(list(key), dropna=False)["_order"].transform("max")
    timeless = merged[[c for c in key if c.endswith(("_at", "_for"))]]
    kept = merged[(merged["_order"] == newest) | timeless.isna().any(axis=1)]
    kept = kept.drop(columns=["_order", "_table"], errors="ignore")
    kept = kept.reset_index(drop=True)
    if "observed_at" in key:
        return merge_observations([kept])
    return kept.drop_duplicates().reset_index(drop=True)


def _with_table(observations: pd.DataFrame) -> pd.DataFrame:
    """Observations with the FFS table that delivered them, from ``source``."""
    table = observations["source"].str.rsplit(":", n=1).str[-1]
    return observations.assign(_table=table)


def _recent_above_warning(
    batches: list[tuple[_Snapshot, GaugeBatch]], at: datetime
) -> pd.DataFrame | None:
    for snapshot, batch in reversed(batches):
        if snapshot.visible_at < at - ABOVE_WARNING_MAX_AGE:
            return None
        if batch.above_warning is not None:
            return batch.above_warning
    return None
