"""prefect.yaml declares the nowcast deployment that the runbook promises."""

from pathlib import Path

import yaml
from prefect.client.schemas.objects import ConcurrencyLimitConfig
from prefect.flows import load_flow_from_entrypoint

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
