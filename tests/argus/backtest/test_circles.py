"""Matching of revenue-circle names between the registry, reports and polygons."""

import json
from datetime import date

import pandas as pd
import pytest

from argus.backtest.circles import CircleReports, check_circles, read_circle_index


@pytest.fixture(scope="module")
def recorded_index(shared_data):
    return read_circle_index(shared_data / "geo" / "assam_revenue_circles.geojson")


@pytest.mark.parametrize(
    ("name", "circle"),
    [
        ("Barnagar (Pt)", "barnagar"),
        # The circle file's second spelling (revenue_cr).
        ("Morigaon", "marigaon"),
        ("Baska", "baksa"),
        ("Sissiborgaon", "sissibargaon"),
        # o for a, the other romanisation of the Assamese inherent vowel.
        ("Bengtol", "bengtal"),
        ("Rongjuli", "rangjuli"),
        # No polygon of the circle file: the name stays as it is.
        ("Dispur", "dispur"),
    ],
)
def test_recorded_circle_of_name(recorded_index, name, circle):
    assert recorded_index.circle_of(name) == circle


def test_registry_names_unmatched_only_dispur(recorded_index, shared_data):
    path = shared_data / "geo" / "assam_osm_places.json"
    places = json.loads(path.read_text(encoding="utf-8"))["places"]
    names = {p["revenue_circle"] for p in places if p.get("revenue_circle")}
    circles = recorded_index.circle_names()

    unmatched = {n for n in names if recorded_index.circle_of(n) not in circles}

    assert len(names) == 151
    assert unmatched == {"Dispur"}


@pytest.mark.parametrize(
    ("report_date", "unmatched"),
    [("2026-07-25", set()), ("2026-07-26", set()), ("2026-07-27", {"Dispur"})],
)
def test_asdma_names_unmatched(recorded_index, shared_data, report_date, unmatched):
    folder = shared_data / "asdma" / "reports_2026"
    path = folder / f"asdma_{report_date}_extractor-v7-circles.csv"
    names = set(pd.read_csv(path, dtype=str)["revenue_circle"].dropna())
    circles = recorded_index.circle_names()

    assert {n for n in names if recorded_index.circle_of(n) not in circles} == unmatched


def _circle_file(path, circles: list[tuple[str, str, str]]):
    features = [
        {
            "type": "Feature",
            "properties": {"object_id": object_id, "revenue_ci": ci, "revenue_cr": cr},
            "geometry": None,
        }
        for object_id, ci, cr in circles
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_own_spelling_wins_over_other_circle(tmp_path):
    path = _circle_file(
        tmp_path / "circles.geojson",
        [("1", "Tihu", "Tihu"), ("2", "Nalbari", "Tihu")],
    )

    index = read_circle_index(path)

    assert index.circle_of("Tihu") == "tihu"
    assert index.circle_of("Nalbari") == "nalbari"


def test_ambiguous_folded_spelling_unmatched(tmp_path):
    path = _circle_file(
        tmp_path / "circles.geojson",
        [("1", "Rangia", "Rangia"), ("2", "Rongia", "Rongia")],
    )

    index = read_circle_index(path)

    assert index.circle_of("Rongia") == "rongia"
    assert index.circle_of("Rangia") == "rangia"
    # Folds to "rangia" like both circles, so it matches neither.
    assert index.circle_of("Rongio") == "rongio"


def test_check_circles_matches_variants(tmp_path):
    reports = CircleReports(
        circles=_circle_file(
            tmp_path / "circles.geojson",
            [("18-1", "Bengtal", "Bengtal"), ("18-2", "Marigaon", "Morigaon")],
        ),
        asdma=tmp_path / "asdma.csv",
        drims=tmp_path / "drims.csv",
    )
    pd.DataFrame(
        {
            "report_date": ["2026-07-27"] * 3,
            "revenue_circle": ["Bengtal", "Morigaon", "Dispur"],
            "affected_villages": ["3", "0", "1"],
            "affected_population": ["100", "0", "50"],
        }
    ).to_csv(reports.asdma, index=False)
    pd.DataFrame(
        {
            "object_id": ["18-1", "18-2"],
            "Population_affected_Total": ["10", "5"],
            "timeperiod": ["2026_07", "2026_07"],
        }
    ).to_csv(reports.drims, index=False)
    villages = pd.DataFrame(
        {
            "village_id": ["v1", "v2", "v3", "v4"],
            "revenue_circle": ["Bengtol", "Dispur", "Morigaon", None],
        }
    )
    at_risk = pd.DataFrame({"village_id": ["v1", "v2"]})

    result = check_circles(
        at_risk,
        villages,
        reports,
        window=(date(2026, 7, 27), date(2026, 7, 28)),
        issue_hours_in_window=48,
    )

    assert result["circles_warned"] == ["bengtal", "dispur"]
    assert result["circles_with_villages"] == 3
    asdma = result["against"]["asdma"]
    assert asdma["hit_circles"] == ["bengtal", "dispur"]
    assert asdma["misses"] == 0
    drims = result["against"]["drims"]
    assert drims["hit_circles"] == ["bengtal"]
    assert drims["misses"] == 1
    assert drims["false_alarm_circles"] == ["dispur"]
    assert result["names_not_in_circle_file"] == {
        "villages": ["dispur"],
        "asdma": ["dispur"],
    }
    assert result["names_matched_by_other_spelling"] == {
        "villages": {"Bengtol": "bengtal", "Morigaon": "marigaon"},
        "asdma": {},
    }
