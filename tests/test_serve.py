"""`argus serve`: work pools, queues and deployments on a temporary Prefect API."""

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings

from argus.cli_serve import (
    PROJECT_DIR,
    ensure_work_pools,
    prefect_env,
    register_deployments,
)
from argus.errors import ConfigurationError


@pytest.fixture
def api_url(prefect_harness) -> str:
    return str(get_current_settings().api.url)


def test_pools_and_critical_queue_are_created_once(api_url):
    ensure_work_pools()
    second = ensure_work_pools()

    with get_client(sync_client=True) as client:
        storm = client.read_work_pool("storm")
        default = client.read_work_pool("default")
        queues = {q.name: q.priority for q in client.read_work_queues("storm")}
    assert second == []
    assert storm.type == "process"
    assert default.type == "process"
    assert queues["critical"] == 1
    assert queues["default"] > 1


def test_deployments_are_registered_on_their_pools(api_url):
    ensure_work_pools()

    register_deployments(PROJECT_DIR, prefect_env(PROJECT_DIR, api_url))

    with get_client(sync_client=True) as client:
        nowcast = client.read_deployment_by_name("nowcast/nowcast")
        storm = client.read_deployment_by_name("storm/storm")
    assert nowcast.work_pool_name == "default"
    assert storm.work_pool_name == "storm"
    assert storm.work_queue_name == "critical"
    assert storm.schedules[0].schedule.interval.total_seconds() == 60
    assert nowcast.schedules[0].schedule.interval.total_seconds() == 300
    step = storm.pull_steps[0]["prefect.deployments.steps.set_working_directory"]
    assert step["directory"] in (str(PROJECT_DIR), "{{ $ARGUS_CHECKOUT }}")


def test_serve_needs_an_api_url(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)

    with pytest.raises(ConfigurationError, match="PREFECT_API_URL is not set"):
        prefect_env(PROJECT_DIR, None)
