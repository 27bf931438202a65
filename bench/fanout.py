"""Fan out one EMERGENCY to many subscribers: the alert path, the outbox, Twilio.

One village gets ``--subscribers`` SMS subscribers. The clock starts when the
alert is recorded: :func:`argus.alerting.alert_village` stores it and queues
one outbox row per subscriber (what the alert subflow's first task does), and
:func:`argus.sending.send_outbox` sends the village's rows through the real
Twilio SDK (what its second task does) to the fake Twilio server of the
tests, run as its own process. Prefect's own cost per subflow run is not
included.

Printed numbers:

- ``queue_s``, ``send_s``: time to record the alert and queue its rows, and to
  send them;
- ``messages_per_s``: messages accepted by the fake over ``send_s``;
- ``p50_s``, ``p95_s``, ``max_s``: time from the alert's creation to the
  fake's acceptance of each message;
- ``baseline_messages_per_s``: the same number of create requests sent by a
  bare aiohttp client with the same concurrency and no SDK or database, in the
  same run: the fake server's own ceiling on this machine;
- ``fake_cpu_us_per_request``: CPU time of the fake server process per request.

Usage: ``python -m bench.fanout --subscribers 10000 --json``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
REPO = Path(__file__).resolve().parents[1]


def start_fake() -> tuple[subprocess.Popen, str]:
    """The fake Twilio server as its own process; returns it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_twilio"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = json.loads(process.stdout.readline())["url"]
    return process, url


def fake_stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_fake/stats", timeout=60) as answer:
        return json.load(answer)


def seed(engine: sa.Engine, subscribers: int) -> None:
    """Insert one village and its consenting SMS subscribers in bulk."""
    from argus.storage.tables import Subscriber, SubscriberVillage, Village

    with engine.begin() as connection:
        connection.execute(
            sa.insert(Village.__table__),
            [{"village_id": "v1", "name": "Dhubri Ghat", "lat": 26.0, "lon": 89.9}],
        )
        connection.execute(
            sa.insert(Subscriber.__table__),
            [
                {
                    "id": n + 1,
                    "phone": f"+9198{n:08d}",
                    "name": "",
                    "language": "as",
                    "channels": "sms",
                    "role": "resident",
                    "consent": True,
                    "opted_out": False,
                }
                for n in range(subscribers)
            ],
        )
        connection.execute(
            sa.insert(SubscriberVillage.__table__),
            [{"subscriber_id": n + 1, "village_id": "v1"} for n in range(subscribers)],
        )


async def bare_client(url: str, requests: int, concurrency: int) -> float:
    """Messages per second of a bare aiohttp client against the fake."""
    import aiohttp

    token = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    target = f"{url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            data = {"To": f"+9197{n:08d}", "From": "+15005550006", "Body": "test"}
            async with session.post(target, data=data, headers=headers) as answer:
                await answer.read()

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


def run(subscribers: int, *, concurrency: int, rate: float, database_url: str) -> dict:
    from argus.alerting import alert_village
    from argus.sending import send_outbox_sync
    from argus.settings import load_settings
    from argus.storage.alerts import LevelChange
    from argus.storage.db import engine_for
    from argus.storage.tables import Alert

    fake, url = start_fake()
    try:
        os.environ.update(
            {
                "ARGUS_DATABASE_URL": database_url,
                "ARGUS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "ARGUS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "ARGUS_TWILIO_FROM": "+15005550006",
                "ARGUS_TWILIO_BASE_URL": url,
                "ARGUS_TWILIO_CONCURRENCY": str(concurrency),
                "ARGUS_TWILIO_MESSAGES_PER_S": str(rate),
            }
        )
        settings = load_settings()
        engine = engine_for(settings.resolved_database_url)
        seed(engine, subscribers)
        change = LevelChange("v1", "EMERGENCY", "WARNING", ["reading >= danger"], None)

        started = time.perf_counter()
        result = alert_village(engine, change, cycle_at=datetime.now(UTC))
        queued = time.perf_counter()
        report = send_outbox_sync(engine, settings, village_id="v1")
        sent = time.perf_counter()

        with engine.connect() as connection:
            created_at = connection.execute(
                sa.select(Alert.created_at).where(Alert.id == result["alert_id"])
            ).scalar_one()
        after = fake_stats(url)
        latency = np.array([a["accepted_at"] for a in after["accepted"]])
        latency -= created_at.timestamp()
        cpu_before = after["cpu_s"]
        baseline = asyncio.run(bare_client(url, min(subscribers, 20_000), concurrency))
        cpu_baseline = fake_stats(url)["cpu_s"] - cpu_before
    finally:
        fake.terminate()
        fake.wait(timeout=10)

    return {
        "subscribers": subscribers,
        "database": sa.engine.make_url(database_url).get_backend_name(),
        "concurrency": concurrency,
        "rate_per_s": rate,
        "queued": result["outbox_queued"],
        "sent": report.sent,
        "accepted_by_fake": len(after["accepted"]),
        "queue_s": round(queued - started, 2),
        "send_s": round(sent - queued, 2),
        "messages_per_s": round(report.sent / (sent - queued), 1),
        "p50_s": round(float(np.percentile(latency, 50)), 2),
        "p95_s": round(float(np.percentile(latency, 95)), 2),
        "max_s": round(float(latency.max()), 2),
        "baseline_messages_per_s": round(baseline, 1),
        "sender_to_baseline": round(report.sent / (sent - queued) / baseline, 2),
        "fake_cpu_us_per_request": round(
            cpu_baseline / min(subscribers, 20_000) * 1e6, 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--rate", type=float, default=100_000.0, help="Messages per second allowed."
    )
    parser.add_argument(
        "--database-url", default="", help="Default: SQLite in a temporary folder."
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["ARGUS_HOME"] = folder
        url = args.database_url or f"sqlite:///{folder}/argus.db"
        result = run(
            args.subscribers,
            concurrency=args.concurrency,
            rate=args.rate,
            database_url=url,
        )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<26} {value}")


if __name__ == "__main__":
    main()
