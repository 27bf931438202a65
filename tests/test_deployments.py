"""prefect.yaml declares the nowcast and storm deployments the runbook promises."""

from pathlib import Path

import yaml
from prefect.client.schemas.objects import ConcurrencyLimitConfig
from prefect.flows import load_flow_from_entrypoint

from argus.cli_serve import POOLS

REPO_ROOT = Path(__file__).resolve().parents[1]


def _deployments() -> dict[str, dict]:
    document = yaml.safe_load((REPO_ROOT / "prefect.yaml").read_text())
    return {d["name"]: d for d in document["deployments"]}


def test_nowcast_every_five_minutes_on_default_pool():
    nowcast = _deployments()["nowcast"]

    assert nowcast["schedules"][0]["interval"] == 300
    assert nowcast["work_pool"]["name"] == "default"


def test_nowcast_runs_never_pile_up():
    limit = ConcurrencyLimitConfig(**_deployments()["nowcast"]["concurrency_limit"])

    assert limit.limit == 1
    assert limit.collision_strategy.value == "CANCEL_NEW"


def test_nowcast_entrypoint_loads_the_flow(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)

    flow = load_flow_from_entrypoint(_deployments()["nowcast"]["entrypoint"])

    assert flow.name == "nowcast"


def test_train_risk_entrypoint_loads_the_flow(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)

    flow = load_flow_from_entrypoint(_deployments()["train-risk"]["entrypoint"])

    assert flow.name == "train-risk"


def test_storm_every_minute_on_its_own_pool():
    storm = _deployments()["storm"]

    assert storm["schedules"][0]["interval"] == 60
    assert storm["work_pool"]["name"] == "storm"
    assert storm["work_pool"]["work_queue_name"] == "critical"


def test_storm_runs_never_pile_up():
    limit = ConcurrencyLimitConfig(**_deployments()["storm"]["concurrency_limit"])

    assert limit.limit == 1
    assert limit.collision_strategy.value == "CANCEL_NEW"


def test_storm_entrypoint_loads_the_flow(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)

    flow = load_flow_from_entrypoint(_deployments()["storm"]["entrypoint"])

    assert flow.name == "storm"


def test_serve_creates_every_pool_and_queue_used():
    pools = {pool.name: dict(pool.queues) for pool in POOLS}

    for name, deployment in _deployments().items():
        pool = deployment["work_pool"]
        assert pool["name"] in pools, name
        queue = pool.get("work_queue_name")
        assert queue is None or queue in pools[pool["name"]], name
    assert pools["storm"]["critical"] == 1


def test_train_regression_entrypoint_loads_the_flow(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)

    flow = load_flow_from_entrypoint(_deployments()["train-regression"]["entrypoint"])

    assert flow.name == "train-regression"
