"""Cost of composing an alert's messages against bare outbox inserts.

``queue_messages`` gathers the alert's facts, composes one body per language
and channel, and adds one outbox row per subscriber and channel. The baseline,
timed in the same run, adds the same rows with a fixed body and no composition,
so the ratio is the price of the templates, the SMS budgeting and the TwiML.

Run: ``python -m bench.compose [--sizes 1000 10000 100000] [--json]``. It uses
a temporary SQLite database and the rows of one flooding village (Dhubri's
thresholds), not the recorded data.
"""

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from argus.messaging import channels_for, idempotency_key, queue_messages
from argus.storage.db import create_db_engine, migrate, session_scope
from argus.storage.tables import Alert, Outbox, Subscriber, SubscriberVillage
from tests.argus.alert_rows import VILLAGE_ID, add_alert, add_village

LANGUAGES = ("as", "bn", "hi", "en")
CHANNEL_MIXES = ("sms", "sms;whatsapp", "voice", "sms;voice")


def _add_subscribers(engine: sa.Engine, count: int) -> None:
    """``count`` consenting subscribers of the village, languages and channels mixed."""
    with session_scope(engine) as session:
        session.add_all(
            Subscriber(
                phone=f"+9190{i:08d}",
                language=LANGUAGES[i % len(LANGUAGES)],
                channels=CHANNEL_MIXES[i % len(CHANNEL_MIXES)],
                consent=True,
            )
            for i in range(count)
        )
        session.flush()
        ids = session.exec(select(Subscriber.id)).all()
        session.add_all(
            SubscriberVillage(subscriber_id=i, village_id=VILLAGE_ID) for i in ids
        )


def _bare_insert(engine: sa.Engine, alert_id: int) -> int:
    """Add the same rows as ``queue_messages`` with a fixed body."""
    with session_scope(engine) as session:
        subscribers = session.exec(select(Subscriber).order_by(Subscriber.id)).all()
        rows = [
            Outbox(
                idempotency_key=idempotency_key(alert_id, s.id, channel),
                alert_id=alert_id,
                subscriber_id=s.id,
                channel=channel,
                language=s.language,
                body="fixed body",
            )
            for s in subscribers
            for channel in channels_for(s)
        ]
        session.add_all(rows)
        session.flush()
        return len(rows)


def measure_size(count: int) -> dict:
    """Time ``queue_messages`` and the bare insert for ``count`` subscribers."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate(engine)
        with session_scope(engine) as session:
            add_village(session)
            composed_alert = add_alert(session).id
            bare_alert = add_alert(session, hours_after=1).id
        _add_subscribers(engine, count)

        started = time.perf_counter()
        with session_scope(engine) as session:
            rows = queue_messages(session, session.get(Alert, composed_alert))
        composed_s = time.perf_counter() - started

        started = time.perf_counter()
        bare_rows = _bare_insert(engine, bare_alert)
        bare_s = time.perf_counter() - started
        engine.dispose()

    assert rows == bare_rows, (rows, bare_rows)
    return {
        "subscribers": count,
        "rows": rows,
        "queue_messages_s": round(composed_s, 3),
        "bare_insert_s": round(bare_s, 3),
        "rows_per_s": round(rows / composed_s),
        "ratio": round(composed_s / bare_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--json", action="store_true", help="Print JSON lines.")
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    for count in args.sizes:
        result = measure_size(count)
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{result['subscribers']:>8} subscribers {result['rows']:>8} rows "
                f"queue_messages {result['queue_messages_s']:.3f} s "
                f"bare {result['bare_insert_s']:.3f} s ratio {result['ratio']}"
            )


if __name__ == "__main__":
    main()
