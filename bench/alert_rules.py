"""Time the alert rules of one cycle, against a plain comparison of levels.

Each size gets an embedded SQLite database (WAL) in a temporary folder, with
one stored state per village: 98 % NORMAL, 1 % WATCH, 1 % WARNING. Every timed
cycle decides new levels in which 2 % of the villages differ from the
previous cycle (a wobble between NORMAL and WATCH or WARNING, so some
downgrades wait and some upgrades fall in the cooldown). Timed, per cycle and
with the commit:

- rules: :func:`argus.storage.alerts.find_level_changes` with the default
  policy, which also writes waiting downgrades and moves without a message
  (the alerts it returns are recorded outside the clock);
- plain: the comparison the cycle made before the alert rules existed: load
  every state, list the villages whose level differs, and touch ``cycle_at``
  of every NORMAL village (the baseline);
- escalation: :func:`argus.escalation.escalate` with 1 % of the villages at
  EMERGENCY, 20 subscribers each (one a volunteer), 30 minutes after their
  alert. The first pass queues steps 1 and 2; the later passes find nothing
  new to queue (idle).

``rules_to_plain`` is rules over plain. Each figure except the first
escalation pass is the median of ``--repeat`` cycles.

Usage: ``python -m bench.alert_rules --json --sizes 1534 26405``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import select

from argus.escalation import EscalationPolicy, escalate
from argus.storage.alerts import find_level_changes, record_alert
from argus.storage.db import create_db_engine, migrate, session_scope
from argus.storage.tables import Subscriber, SubscriberVillage, VillageState

T0 = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)
CYCLE = timedelta(minutes=5)
SIZES = (1_534, 26_405)
SUBSCRIBERS_PER_VILLAGE = 20


def levels_frame(village_ids: np.ndarray, levels: np.ndarray) -> pd.DataFrame:
    """A decided-levels frame as :func:`decide_levels` returns it."""
    reading = {"NORMAL": 47.0, "WATCH": 48.0, "WARNING": 48.7, "EMERGENCY": 49.9}
    return pd.DataFrame(
        {
            "village_id": village_ids,
            "level": levels,
            "reasons": [()] * len(levels),
            "station_code": "001-MBDGHY",
            "monitored": True,
            "level_m": [reading[level] for level in levels],
            "warning_level_m": 48.68,
            "danger_level_m": 49.68,
        }
    )


def seed_states(engine, village_ids: np.ndarray, levels: np.ndarray) -> None:
    with session_scope(engine) as session:
        find_level_changes(session, levels_frame(village_ids, levels), cycle_at=T0)


def wobble(levels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Change 2 % of the levels: NORMAL rises, anything else falls to NORMAL."""
    changed = levels.copy()
    picked = rng.choice(len(levels), size=max(1, len(levels) // 50), replace=False)
    rises = rng.choice(["WATCH", "WARNING"], size=len(picked))
    changed[picked] = np.where(levels[picked] == "NORMAL", rises, "NORMAL")
    return changed


def plain_comparison(session, frame: pd.DataFrame, cycle_at: datetime) -> int:
    """Compare levels as the cycle did before the alert rules (the baseline)."""
    states = {s.village_id: s for s in session.exec(select(VillageState)).all()}
    changes = 0
    for record in frame.to_dict("records"):
        state = states.get(record["village_id"])
        if state is None or state.level != record["level"]:
            changes += 1
        elif record["level"] == "NORMAL":
            state.cycle_at = cycle_at
    session.flush()
    return changes


def time_cycles(engine, village_ids, levels, *, repeat: int, rules: bool) -> float:
    """Median seconds of the timed pass; the alerts are recorded untimed.

    Both passes leave the database in the same state, because the alerts (and,
    after the plain pass, the rules' moves) are written outside the clock.
    """
    rng = np.random.default_rng(11)
    seconds = []
    for cycle in range(1, repeat + 1):
        levels = wobble(levels, rng)
        frame = levels_frame(village_ids, levels)
        cycle_at = T0 + cycle * CYCLE

        started = time.perf_counter()
        with session_scope(engine) as session:
            if rules:
                review = find_level_changes(session, frame, cycle_at=cycle_at)
            else:
                plain_comparison(session, frame, cycle_at)
        seconds.append(time.perf_counter() - started)

        with session_scope(engine) as session:
            if not rules:
                review = find_level_changes(session, frame, cycle_at=cycle_at)
            for change in review.changes:
                record_alert(session, change, cycle_at=cycle_at, flow_run_id=None)
    return statistics.median(seconds)


def time_escalation(
    engine, village_ids: np.ndarray, *, repeat: int
) -> tuple[float, float]:
    """Seconds of the first escalation pass and the median of the idle ones."""
    at_risk = village_ids[: max(1, len(village_ids) // 100)]
    with session_scope(engine) as session:
        for index, village_id in enumerate(at_risk):
            for n in range(SUBSCRIBERS_PER_VILLAGE):
                role = "volunteer" if n == 0 else "resident"
                subscriber = Subscriber(
                    phone=f"+9198{index:04d}{n:04d}",
                    channels="sms;voice",
                    role=role,
                    consent=True,
                )
                session.add(subscriber)
                session.flush()
                session.add(
                    SubscriberVillage(
                        subscriber_id=subscriber.id, village_id=village_id
                    )
                )
        frame = levels_frame(at_risk, np.array(["EMERGENCY"] * len(at_risk)))
        start = T0 + timedelta(days=1)
        for change in find_level_changes(session, frame, cycle_at=start).changes:
            record_alert(session, change, cycle_at=start, flow_run_id=None)

    seconds = []
    for cycle in range(repeat):
        now = start + timedelta(minutes=30) + cycle * CYCLE
        started = time.perf_counter()
        with session_scope(engine) as session:
            escalate(session, now=now, policy=EscalationPolicy())
        seconds.append(time.perf_counter() - started)
    return seconds[0], statistics.median(seconds[1:] or seconds)


def run(size: int, *, repeat: int) -> dict:
    rng = np.random.default_rng(7)
    village_ids = np.array([f"v{i:07d}" for i in range(size)])
    levels = rng.choice(["NORMAL", "WATCH", "WARNING"], size=size, p=[0.98, 0.01, 0.01])
    result = {"villages": size}
    with tempfile.TemporaryDirectory() as folder:
        for name, rules in (("plain", False), ("rules", True)):
            engine = create_db_engine(f"sqlite:///{Path(folder) / name}.db")
            migrate(engine)
            seed_states(engine, village_ids, levels)
            result[f"{name}_s"] = time_cycles(
                engine, village_ids, levels, repeat=repeat, rules=rules
            )
            if rules:
                first, idle = time_escalation(engine, village_ids, repeat=repeat)
                result["escalation_first_s"] = first
                result["escalation_idle_s"] = idle
            engine.dispose()
    result["rules_to_plain"] = result["rules_s"] / result["plain_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print JSON lines.")
    arguments = parser.parse_args()
    for size in arguments.sizes:
        result = run(size, repeat=arguments.repeat)
        if arguments.json:
            print(json.dumps(result))
        else:
            print(
                f"{size:>9,} villages: rules {result['rules_s']:.3f} s, "
                f"plain {result['plain_s']:.3f} s "
                f"(x{result['rules_to_plain']:.2f}), "
                f"escalation {result['escalation_first_s']:.3f} s first pass, "
                f"{result['escalation_idle_s']:.3f} s idle"
            )


if __name__ == "__main__":
    main()
