"""Tests of argus.sources.replay on the recorded FFS polls."""

import gzip
import json
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from argus.errors import ReplayError
from argus.sources.cwc_payload import IST
from argus.sources.replay import ReplaySource


def ist(text: str) -> datetime:
    """An aware time from IST text such as '2026-07-30T06:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=IST)


@pytest.fixture(scope="module")
def replay(shared_data: Path) -> ReplaySource:
    return ReplaySource(shared_data / "cwc_ffs" / "snapshots")


def beki_0200(replay: ReplaySource, at: str) -> list[float]:
    """Levels of Beki Road bridge at 2026-07-30 02:00 IST visible at ``at``."""
    observations = replay.fetch_batch(ist(at)).observations
    rows = observations[
        (observations["station_code"] == "002-LBDJPG")
        & (observations["observed_at"] == pd.Timestamp(ist("2026-07-30T02:00")))
    ]
    return rows["level_m"].tolist()


def test_replay_times(replay: ReplaySource) -> None:
    assert replay.earliest_time() == ist("2026-07-27T15:00")
    assert replay.latest_time() == ist("2026-08-08T22:00")


def test_visible_files_from_name_time_on(replay: ReplaySource) -> None:
    before = replay.visible_files(ist("2026-07-30T05:59"))
    at = replay.visible_files(ist("2026-07-30T06:00"))
    assert before[-1].name == "ffs_2026-07-30T0300.json.gz"
    assert at[-1].name == "ffs_2026-07-30T0600.json.gz"
    assert len(at) == len(before) + 1 == 23


def test_visible_files_orders_suffix_after_sibling(replay: ReplaySource) -> None:
    names = [p.name for p in replay.visible_files(ist("2026-07-28T20:00"))]
    assert names[-2:] == [
        "ffs_2026-07-28T2000.json.gz",
        "ffs_2026-07-28T2000_2.json.gz",
    ]


def test_beki_road_bridge_revision_visibility(replay: ReplaySource) -> None:
    assert beki_0200(replay, "2026-07-30T05:59") == []
    assert beki_0200(replay, "2026-07-30T06:00") == [4.86]
    assert beki_0200(replay, "2026-07-30T07:59") == [4.86]
    assert beki_0200(replay, "2026-07-30T08:00") == [43.86]
    assert beki_0200(replay, "2026-08-08T22:00") == [43.86]


def test_fetch_batch_whole_period(replay: ReplaySource) -> None:
    batch = replay.fetch_batch(replay.latest_time())
    observations = batch.observations
    assert batch.failures == []
    assert len(batch.sources_read) == 133
    assert len(observations) == 19119
    assert observations["datatype"].value_counts().to_dict() == {
        "HHS": 18958,
        "HZS": 97,
        "MPS": 53,
        "HZF": 11,
    }
    # series and latest-level tables disagree at 12 (station, hour) pairs;
    # both values stay for the contract, e.g. Harangajao 131.66 against 31.66.
    levels = observations[observations["datatype"] == "HHS"]
    assert levels.duplicated(["station_code", "observed_at"]).sum() == 12
    harangajao = levels[
        (levels["station_code"] == "030-MBDGHY")
        & (levels["observed_at"] == pd.Timestamp(ist("2026-07-31T10:00")))
    ]
    assert sorted(harangajao["level_m"]) == [31.66, 131.66]
    assert len(batch.official_forecasts) == 219


def test_fetch_batch_matches_hourly_levels_csv(
    replay: ReplaySource, shared_data: Path
) -> None:
    hourly = pd.read_csv(shared_data / "cwc_ffs" / "hourly_levels.csv")
    hourly["observed_at"] = pd.to_datetime(hourly["observed_at"], utc=True)
    hourly["station_code"] = hourly["cwc_station_code"].str.replace(" ", "")
    hourly["station_code"] = hourly["station_code"].str.upper()
    observations = replay.fetch_batch(replay.latest_time()).observations
    levels = observations[observations["datatype"] == "HHS"]
    merged = hourly.merge(levels, on=["station_code", "observed_at"], how="left")
    assert len(merged) == 18870 + 12
    assert merged["level_m_y"].notna().all()
    # the CSV's latest published value is among the replay's values everywhere
    agrees = merged["level_m_x"] == merged["level_m_y"]
    assert agrees.groupby([merged["station_code"], merged["observed_at"]]).any().all()
    assert agrees.sum() == 18870


def test_above_warning_from_recent_non_empty_list(replay: ReplaySource) -> None:
    # 2000 lists 5 stations, its sibling 2000_2 an empty list (unknown)
    at_2000 = replay.fetch_batch(ist("2026-07-28T20:00")).above_warning
    assert at_2000 is not None and len(at_2000) == 5
    late = replay.fetch_batch(ist("2026-07-28T22:59")).above_warning
    assert late is not None and len(late) == 5
    assert replay.fetch_batch(ist("2026-07-29T00:00")).above_warning is None


def test_fetch_batch_before_first_file_names_earliest(replay: ReplaySource) -> None:
    with pytest.raises(ReplayError, match=r"earliest .* 2026-07-27T15:00:00\+05:30"):
        replay.fetch_batch(ist("2026-07-27T14:59"))


def test_naive_time_rejected(replay: ReplaySource) -> None:
    with pytest.raises(ValueError, match="time zone missing"):
        replay.fetch_batch(datetime(2026, 7, 30, 8, 0))


def test_fetch_stations_from_recorded_layout(replay: ReplaySource) -> None:
    assert len(replay.fetch_stations()) == 169


def copy_snapshots(shared_data: Path, target: Path, names: list[str]) -> Path:
    target.mkdir()
    for name in names:
        shutil.copy(shared_data / "cwc_ffs" / "snapshots" / name, target / name)
    return target


def test_suffix_two_wins_where_siblings_disagree(
    shared_data: Path, tmp_path: Path
) -> None:
    names = ["ffs_2026-07-28T2000.json.gz", "ffs_2026-07-28T2000_2.json.gz"]
    folder = copy_snapshots(shared_data, tmp_path / "snaps", names)
    second = folder / names[1]
    poll = json.loads(gzip.decompress(second.read_bytes()))
    row = poll["series"]["002-LBDJPG"][0]
    original = row["dataValue"]
    row["dataValue"] = 99.99
    second.write_bytes(gzip.compress(json.dumps(poll).encode()))

    batch = ReplaySource(folder).fetch_batch(ist("2026-07-28T20:00"))
    observations = batch.observations
    rows = observations[
        (observations["station_code"] == "002-LBDJPG")
        & (observations["observed_at_raw"] == row["id"]["dataTime"])
        & observations["source"].str.endswith(":series")
    ]
    assert original != 99.99
    assert rows["level_m"].tolist() == [99.99]
    assert rows["source"].tolist() == ["ffs_2026-07-28T2000_2.json.gz:series"]


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"\x1f\x8b\x08\x00truncated", "cannot be decompressed"),
        (gzip.compress(b""), "is empty"),
        (gzip.compress(b"<html><body>502 Bad Gateway</body></html>"), "is not JSON"),
        (gzip.compress('{"a": "\u00e9"}'.encode("latin-1")), "is not UTF-8"),
        (gzip.compress(b'{"latest_levels": {}}'), "lacks the parts"),
    ],
    ids=["truncated-gzip", "empty", "html", "latin-1", "wrong-shape"],
)
def test_malformed_file_goes_to_failures(
    shared_data: Path, tmp_path: Path, content: bytes, cause: str
) -> None:
    names = ["ffs_2026-07-30T0600.json.gz", "ffs_2026-07-30T1000.json.gz"]
    folder = copy_snapshots(shared_data, tmp_path / "snaps", names)
    (folder / "ffs_2026-07-30T0800.json.gz").write_bytes(content)

    batch = ReplaySource(folder).fetch_batch(ist("2026-07-30T10:00"))
    assert [f.source for f in batch.failures] == ["ffs_2026-07-30T0800.json.gz"]
    assert cause in batch.failures[0].cause
    assert batch.sources_read == names
    assert len(batch.observations) == 318


def test_missing_station_file_raises(shared_data: Path, tmp_path: Path) -> None:
    folder = copy_snapshots(shared_data, tmp_path / "snaps", [])
    with pytest.raises(ReplayError, match="--stations FILE"):
        ReplaySource(folder).fetch_stations()
