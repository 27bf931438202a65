"""A sender killed with SIGKILL mid fan-out, restarted, sends each message once.

The fake Twilio server kills the sending process right after it accepted a
chosen number of further messages, before it responds to the last one, so the
sender never learns that SID. Other requests are in flight at that moment.
The fake never deduplicates: exactly-once must come from the outbox.
"""

import json
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlmodel import select

from argus.settings import load_settings
from argus.storage.db import engine_for, session_scope
from argus.storage.tables import Outbox, Subscriber
from tests.argus.sending.seed import seed_alert

SEND = [sys.executable, "-c", "from argus.cli import app; app()", "outbox", "send"]
# Further accepted creates after which each run is killed.
KILL_AFTER = (1, 4, 9, 15)
# Lease of a claimed outbox row in the test [s].
LEASE_S = 1.0


def _run(kill_after: int | None, fake) -> subprocess.CompletedProcess:
    child = subprocess.Popen(
        [*SEND, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if kill_after is not None:
        fake.state.kill_after(kill_after, child.pid)
    stdout, stderr = child.communicate(timeout=60)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def test_killed_sender_sends_each_message_once(twilio_env, monkeypatch):
    # A claim is stale after 1 s. Each restart waits that long, as a real one
    # after a crash would, so the killed run's claims are taken over.
    monkeypatch.setenv("ARGUS_OUTBOX_LEASE_S", str(LEASE_S))
    monkeypatch.setenv("ARGUS_TWILIO_TIMEOUT_S", "0.5")
    # Few requests in flight, so each run stops close to its kill point.
    monkeypatch.setenv("ARGUS_TWILIO_CONCURRENCY", "4")
    engine = engine_for(load_settings().resolved_database_url)
    seed_alert(engine, subscribers=20, channels="sms;whatsapp")
    seed_alert(engine, subscribers=5, channels="voice", first_phone=100)
    fake = twilio_env.state

    for kill_after in KILL_AFTER:
        before = len(fake.accepted)
        time.sleep(LEASE_S + 0.2)
        killed = _run(kill_after, twilio_env)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert len(fake.accepted) >= before + kill_after
    time.sleep(LEASE_S + 0.2)
    final = _run(None, twilio_env)
    if final.returncode != 0:
        # Rows whose outcome stayed unknown are reconciled by one more drain.
        time.sleep(LEASE_S + 0.2)
        final = _run(None, twilio_env)

    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    assert report["found_at_provider"] >= 1
    with session_scope(engine) as session:
        rows = session.exec(select(Outbox, Subscriber.phone).join(Subscriber)).all()
    expected = Counter()
    sid_of = {}
    for row, phone in rows:
        kind = "calls" if row.channel == "voice" else "messages"
        to = f"whatsapp:{phone}" if row.channel == "whatsapp" else phone
        expected[(kind, to)] += 1
        sid_of[(kind, to)] = row.provider_sid
    accepted = Counter((a.kind, a.to) for a in fake.accepted)
    assert len(rows) == 45
    assert accepted == expected
    assert {row.status for row, _ in rows} == {"sent"}
    assert {(a.kind, a.to): a.sid for a in fake.accepted} == sid_of
