"""The storm flow under a temporary Prefect API."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from argus import storm as storm_mode
from argus.alert_rules import AlertPolicy
from argus.settings import load_settings
from argus.storage.alerts import find_level_changes, record_alert
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import Alert, Outbox, Subscriber, SubscriberVillage, Village
from flows.storm import storm

NOW = datetime(2026, 8, 1, 7, 0, tzinfo=UTC)


@pytest.fixture
def emergency_village(argus_env):
    """Village v1 at EMERGENCY since 40 minutes, one subscriber on SMS and voice."""
    engine = engine_for(load_settings().resolved_database_url)
    start = NOW - timedelta(minutes=40)
    levels = pd.DataFrame(
        {
            "village_id": ["v1"],
            "level": ["EMERGENCY"],
            "reasons": [("reading 49.9 m >= danger level 49.68 m",)],
            "station_code": ["001-MBDGHY"],
            "monitored": [True],
            "level_m": [49.9],
            "warning_level_m": [48.68],
            "danger_level_m": [49.68],
        }
    )
    with session_scope(engine) as session:
        session.add(Village(village_id="v1", name="Dhubri Ghat", lat=26.0, lon=89.9))
        subscriber = Subscriber(
            phone="+919800000001", channels="sms;voice", consent=True
        )
        session.add(subscriber)
        session.flush()
        session.add(SubscriberVillage(subscriber_id=subscriber.id, village_id="v1"))
        review = find_level_changes(
            session, levels, cycle_at=start, policy=AlertPolicy()
        )
        record_alert(session, review.changes[0], cycle_at=start, flow_run_id=None)
    return engine


@pytest.mark.usefixtures("prefect_harness")
def test_storm_flow_exits_while_off(emergency_village):
    result = storm(at=NOW.isoformat())

    with session_scope(emergency_village) as session:
        alerts = session.exec(select(Alert)).all()
    assert result == {"at": NOW.isoformat(), "active": False}
    assert len(alerts) == 1


@pytest.mark.usefixtures("prefect_harness")
def test_storm_flow_reminds_on_every_channel(emergency_village):
    with session_scope(emergency_village) as session:
        storm_mode.set_storm_mode(
            session, active=True, reason="drill", operator="Das", now=NOW
        )

    result = storm(at=NOW.isoformat())

    with session_scope(emergency_village) as session:
        rows = session.exec(
            select(Alert.kind, Outbox.channel)
            .join(Alert, Alert.id == Outbox.alert_id)
            .order_by(Alert.cycle_at, Outbox.channel)
        ).all()
    assert result["active"] is True
    assert result["reminders_queued"] == 1
    assert result["outbox_queued"] == 2
    assert rows == [
        ("level_change", "sms"),
        ("reminder", "sms"),
        ("reminder", "voice"),
    ]


@pytest.mark.usefixtures("prefect_harness")
def test_storm_flow_widens_the_latest_alert(emergency_village):
    at = NOW - timedelta(minutes=25)
    with session_scope(emergency_village) as session:
        storm_mode.set_storm_mode(
            session, active=True, reason="drill", operator="Das", now=at
        )

    result = storm(at=at.isoformat())

    with session_scope(emergency_village) as session:
        rows = session.exec(select(Outbox.channel, Outbox.step)).all()
    assert result["reminders_queued"] == 0
    assert result["outbox_queued"] == 1
    assert sorted(rows) == [("sms", 0), ("voice", 0)]
