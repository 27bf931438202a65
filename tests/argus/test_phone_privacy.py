"""Phone numbers never appear in clear in logs, messages, errors or CAP files."""

import logging

import pytest
import sqlalchemy as sa
from sqlmodel import select
from typer.testing import CliRunner

from argus.cap import CapOptions, build_cap
from argus.cli import app
from argus.messaging import queue_messages
from argus.storage.db import session_scope
from argus.storage.tables import Outbox, Subscriber
from argus.subscribers import import_subscribers
from tests.argus.alert_rows import VILLAGE_ID, add_alert, add_village

PHONES = ("+919800000001", "+919800000002", "+918811223344", "+919876543210")
HEADER = "phone,name,language,channels,village_ids,role,consent\n"
ROWS = (
    f"{PHONES[0]},Anu,as,sms;voice,{VILLAGE_ID},volunteer,yes\n"
    f"{PHONES[1]},Bina,bn,whatsapp,{VILLAGE_ID};node/404,resident,yes\n"
    f"{PHONES[2]},Bad language,fr,sms,{VILLAGE_ID},resident,yes\n"
    f"{PHONES[3]},Bad consent,en,sms,{VILLAGE_ID},resident,maybe\n"
    f"9876543210,Not E.164,en,sms,{VILLAGE_ID},resident,yes\n"
    f"{PHONES[0]},Anu again,en,sms,{VILLAGE_ID},volunteer,yes\n"
)


def _leaks(text: str) -> list[str]:
    digits = [phone.lstrip("+") for phone in PHONES] + ["9876543210"]
    return [d for d in digits if d in text or d[-8:] in text]


def test_import_and_composition_log_no_number(engine, tmp_path, caplog):
    path = tmp_path / "subscribers.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    caplog.set_level(logging.DEBUG)

    with session_scope(engine) as session:
        add_village(session)
        result = import_subscribers(session, path)
        alert = add_alert(session)
        queue_messages(session, alert)
        bodies = " ".join(session.exec(select(Outbox.body)).all())
        options = CapOptions(sender="argus.test", area_radius_km=3, expires_h=24)
        cap = build_cap(session, alert, options).decode()

    assert result.stored == 2
    assert len(result.problems) == 5
    assert "imported 2 subscribers, rejected 5 rows" in caplog.text
    assert _leaks(caplog.text) == []
    assert _leaks(" ".join(result.problems)) == []
    assert _leaks(bodies) == []
    assert _leaks(cap) == []


def test_database_error_hides_number(engine):
    with session_scope(engine) as session:
        session.add(Subscriber(phone=PHONES[0]))
    try:
        with session_scope(engine) as session:
            session.add(Subscriber(phone=PHONES[0]))
    except sa.exc.IntegrityError as error:
        message = str(error)
    else:
        raise AssertionError("a second subscriber with the same phone was stored")

    assert "parameters hidden" in message
    # NOTE: PostgreSQL's own DETAIL line names the duplicate key's value; the
    # command line prints only an error's first line, which stops before it.
    assert _leaks(message.split("DETAIL")[0]) == []


@pytest.fixture
def root_logging():
    """Restore the root logger after a command that reconfigures it.

    ``argus -v`` points the root handler at the runner's stderr, which is
    closed after the call, so later tests would log into a closed file.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_cli_import_verbose_prints_no_number(engine, argus_env, tmp_path):
    path = tmp_path / "subscribers.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")

    result = CliRunner().invoke(app, ["-v", "subscribers", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "stored 2 subscribers" in result.stdout
    assert _leaks(result.stdout + result.stderr) == []
