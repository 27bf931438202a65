"""CAP 1.2 messages: valid against the OASIS schema for every level and kind."""

import pytest
from lxml import etree

from argus.cap import CAP_NAMESPACE, CapOptions, build_cap, validate_cap
from argus.errors import CapError
from argus.storage.db import session_scope
from tests.argus.alert_rows import add_alert, add_subscriber, add_village

OPTIONS = CapOptions(sender="argus.test", area_radius_km=3.0, expires_h=24.0)
NS = {"cap": CAP_NAMESPACE}


def _values(xml: bytes, path: str) -> list[str]:
    return etree.fromstring(xml).xpath(path, namespaces=NS)


# (kind, level, previous level, msgType, urgency, severity, certainty, response)
CASES = [
    (
        "level_change",
        "WATCH",
        None,
        "Alert",
        "Future",
        "Moderate",
        "Possible",
        "Monitor",
    ),
    (
        "level_change",
        "WARNING",
        "WATCH",
        "Alert",
        "Expected",
        "Severe",
        "Observed",
        "Prepare",
    ),
    (
        "level_change",
        "EMERGENCY",
        "WARNING",
        "Alert",
        "Immediate",
        "Extreme",
        "Observed",
        "Evacuate",
    ),
    (
        "reminder",
        "EMERGENCY",
        "EMERGENCY",
        "Alert",
        "Immediate",
        "Extreme",
        "Observed",
        "Evacuate",
    ),
    (
        "all_clear",
        "NORMAL",
        "WARNING",
        "Alert",
        "Past",
        "Minor",
        "Observed",
        "AllClear",
    ),
    (
        "level_change",
        "NORMAL",
        "WATCH",
        "Alert",
        "Past",
        "Minor",
        "Observed",
        "AllClear",
    ),
]


@pytest.mark.parametrize(
    (
        "kind",
        "level",
        "previous",
        "msg_type",
        "urgency",
        "severity",
        "certainty",
        "response",
    ),
    CASES,
)
def test_cap_validates_for_each_level_and_kind(
    engine, kind, level, previous, msg_type, urgency, severity, certainty, response
):
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session, level=level, previous=previous, kind=kind)
        xml = build_cap(session, alert, OPTIONS)

    validate_cap(xml)
    assert _values(xml, "/cap:alert/cap:msgType/text()") == [msg_type]
    assert _values(xml, "/cap:alert/cap:status/text()") == ["Actual"]
    assert _values(xml, "/cap:alert/cap:scope/text()") == ["Public"]
    assert _values(xml, "//cap:info/cap:urgency/text()") == [urgency]
    assert _values(xml, "//cap:info/cap:severity/text()") == [severity]
    assert _values(xml, "//cap:info/cap:certainty/text()") == [certainty]
    assert _values(xml, "//cap:info/cap:responseType/text()") == [response]
    assert _values(xml, "//cap:eventCode/cap:value/text()") == ["OET-081"]
    assert _values(xml, "//cap:eventCode/cap:valueName/text()") == ["OET:v1.2"]


def test_cap_fields_of_an_emergency(engine):
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session)
        xml = build_cap(session, alert, OPTIONS)

    assert _values(xml, "/cap:alert/cap:identifier/text()") == [
        "argus-alert-1-20260801T1200"
    ]
    assert _values(xml, "/cap:alert/cap:sender/text()") == ["argus.test"]
    # Created 42.5 s after the 06:30 UTC cycle: whole seconds, IST offset.
    assert _values(xml, "/cap:alert/cap:sent/text()") == ["2026-08-01T12:00:42+05:30"]
    assert _values(xml, "//cap:info/cap:expires/text()") == [
        "2026-08-02T12:00:00+05:30"
    ]
    assert _values(xml, "//cap:info/cap:category/text()") == ["Met"]
    assert _values(xml, "//cap:info/cap:event/text()") == ["Flood"]
    assert _values(xml, "//cap:area/cap:areaDesc/text()") == ["Dhubri Ghat, Dhubri"]
    assert _values(xml, "//cap:area/cap:circle/text()") == ["26.02040,89.97870 3"]
    headline = _values(xml, "//cap:info/cap:headline/text()")[0]
    assert headline == "FLOOD EMERGENCY in Dhubri Ghat."
    description = _values(xml, "//cap:info/cap:description/text()")[0]
    assert "28.93 m" in description
    instruction = _values(xml, "//cap:info/cap:instruction/text()")[0]
    assert instruction.startswith("Move to high ground now")


def test_one_info_block_per_subscriber_language(engine):
    with session_scope(engine) as session:
        add_village(session)
        add_subscriber(session, "+919800000001", "as")
        add_subscriber(session, "+919800000002", "hi")
        add_subscriber(session, "+919800000003", "as")
        add_subscriber(session, "+919800000004", "bn", consent=False)
        alert = add_alert(session)
        xml = build_cap(session, alert, OPTIONS)

    validate_cap(xml)
    assert _values(xml, "//cap:info/cap:language/text()") == [
        "en-IN",
        "as-IN",
        "hi-IN",
    ]
    events = _values(xml, "//cap:info/cap:event/text()")
    assert events == ["Flood", "বানপানী", "बाढ़"]


def test_forecast_alert_is_likely_with_onset(engine):
    reasons = ["p50 forecast reaches danger level 28.62 m in 3 h"]
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session, level="WARNING", previous=None, reasons=reasons)
        xml = build_cap(session, alert, OPTIONS)

    assert _values(xml, "//cap:info/cap:certainty/text()") == ["Likely"]
    assert _values(xml, "//cap:info/cap:onset/text()") == ["2026-08-01T15:00:00+05:30"]


def test_episode_goes_alert_update_cancel_then_alert(engine):
    with session_scope(engine) as session:
        add_village(session)
        first = add_alert(session, level="WARNING", previous=None)
        second = add_alert(session, level="EMERGENCY", hours_after=2)
        clear = add_alert(session, level="NORMAL", kind="all_clear", hours_after=9)
        again = add_alert(session, level="WATCH", previous="NORMAL", hours_after=30)
        messages = [
            build_cap(session, a, OPTIONS) for a in (first, second, clear, again)
        ]

    types = [_values(m, "/cap:alert/cap:msgType/text()")[0] for m in messages]
    assert types == ["Alert", "Update", "Cancel", "Alert"]
    references = [_values(m, "/cap:alert/cap:references/text()") for m in messages]
    assert references[0] == []
    assert references[1] == [
        "argus.test,argus-alert-1-20260801T1200,2026-08-01T12:00:42+05:30"
    ]
    assert references[2][0].split(" ") == [
        "argus.test,argus-alert-1-20260801T1200,2026-08-01T12:00:42+05:30",
        "argus.test,argus-alert-2-20260801T1400,2026-08-01T14:00:42+05:30",
    ]
    assert references[3] == []


def test_schema_rejects_utc_z_time(engine):
    with session_scope(engine) as session:
        add_village(session)
        xml = build_cap(session, add_alert(session), OPTIONS)
    broken = xml.replace(b"+05:30</sent>", b"Z</sent>")

    with pytest.raises(CapError, match="sent"):
        validate_cap(broken)


def test_update_without_references_is_rejected(engine):
    with session_scope(engine) as session:
        add_village(session)
        xml = build_cap(session, add_alert(session), OPTIONS)
    broken = xml.replace(b"<msgType>Alert</msgType>", b"<msgType>Update</msgType>")

    with pytest.raises(CapError, match="Update without references"):
        validate_cap(broken)


def test_sender_with_space_is_rejected(engine):
    options = CapOptions(sender="argus test", area_radius_km=3.0, expires_h=24.0)
    with session_scope(engine) as session:
        add_village(session)
        alert = add_alert(session)
        with pytest.raises(CapError, match="sender 'argus test'"):
            build_cap(session, alert, options)
