"""``argus serve``: the Prefect server, deployments and workers on one machine.

The steps, in order:

1. start the local Prefect server when asked;
2. create the work pools: ``default`` for the nowcast, and ``storm`` for
   Storm Mode with its ``critical`` queue at priority 1;
3. register the deployments of ``prefect.yaml`` with ``prefect deploy --all``;
4. run one process worker per pool until interrupted.

Interrupting stops the workers, then the server.
"""

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from argus.errors import ArgusError, ConfigurationError

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Pool:
    """A process work pool and the queues it needs, with their priorities."""

    name: str
    queues: tuple[tuple[str, int], ...] = ()


# The storm pool has its own workers, so routine work cannot starve it. Its
# critical queue is served before any other queue of the pool.
POOLS = (Pool("default"), Pool("storm", queues=(("critical", 1),)))


class ServeError(ArgusError):
    """A process of ``argus serve`` failed to start or stopped on its own."""


def prefect_env(project_dir: Path, api_url: str | None) -> dict[str, str]:
    """Environment of the Prefect child processes."""
    env = dict(os.environ)
    env["ARGUS_CHECKOUT"] = str(project_dir)
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if not env.get("PREFECT_API_URL"):
        raise ConfigurationError(
            "PREFECT_API_URL is not set; pass --server to start a local Prefect "
            "server, or set it to the API of a running one"
        )
    return env


def start_server(port: int, *, timeout_s: float = 120.0) -> subprocess.Popen:
    """Start ``prefect server start`` on 127.0.0.1:``port``; wait for its health check.

    Raises
    ------
    ServeError
        When the server exits or its health check fails for ``timeout_s`` [s].
    """
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    env.pop("PREFECT_API_URL", None)
    command = [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    health = f"http://127.0.0.1:{port}/api/health"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(
                f"the Prefect server exited with code {process.returncode} while "
                f"starting on port {port}; is the port in use?"
            )
        try:
            if httpx.get(health, timeout=2.0).status_code == 200:
                logger.info("Prefect server ready at http://127.0.0.1:%d", port)
                return process
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    stop_processes([process])
    raise ServeError(
        f"the Prefect server did not respond at {health} in {timeout_s:g} s"
    )


def ensure_work_pools(pools: tuple[Pool, ...] = POOLS) -> list[str]:
    """Create the missing process work pools and queues; set queue priorities.

    Returns what was created or changed, one line each. Needs PREFECT_API_URL.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    done = []
    with get_client(sync_client=True) as client:
        for pool in pools:
            try:
                client.read_work_pool(pool.name)
            except ObjectNotFound:
                template = ProcessWorker.get_default_base_job_template()
                client.create_work_pool(
                    WorkPoolCreate(
                        name=pool.name, type="process", base_job_template=template
                    )
                )
                done.append(f"created work pool {pool.name}")
            queues = {q.name: q for q in client.read_work_queues(pool.name)}
            for name, priority in pool.queues:
                queue = queues.get(name)
                if queue is None:
                    client.create_work_queue(
                        name=name, work_pool_name=pool.name, priority=priority
                    )
                    done.append(f"created queue {pool.name}/{name} at {priority}")
                elif queue.priority != priority:
                    client.update_work_queue(queue.id, priority=priority)
                    done.append(f"set queue {pool.name}/{name} to {priority}")
    return done


def register_deployments(project_dir: Path, env: dict[str, str]) -> None:
    """Register every deployment of ``prefect.yaml`` with ``prefect deploy --all``.

    Raises
    ------
    ServeError
        When ``prefect deploy`` fails; its last output lines are in the message.
    """
    prefect_yaml = project_dir / "prefect.yaml"
    if not prefect_yaml.is_file():
        raise ConfigurationError(f"{str(prefect_yaml)!r} not found")
    command = [*PREFECT, "--no-prompt", "deploy", "--all"]
    result = subprocess.run(
        command,
        check=False,
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        raise ServeError(f"prefect deploy failed ({result.returncode}): {tail}")


def start_workers(
    project_dir: Path, env: dict[str, str], pools: tuple[Pool, ...] = POOLS
) -> list[subprocess.Popen]:
    """Start one process worker per pool, in its own process group."""
    return [
        subprocess.Popen(
            [*PREFECT, "worker", "start", "--pool", pool.name, "--type", "process"],
            cwd=project_dir,
            env=env,
            start_new_session=True,
        )
        for pool in pools
    ]


def wait_until_interrupted(processes: list[subprocess.Popen]) -> int:
    """Wait for SIGINT or SIGTERM, or for a process to exit; returns its code.

    Returns 0 when interrupted. The caller stops the processes.
    """
    stopping = []

    def _stop(signum, _frame):
        stopping.append(signum)

    previous = {
        sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stopping:
            for process in processes:
                if process.poll() is not None:
                    logger.error(
                        "%s exited with code %d; stopping argus serve",
                        " ".join(process.args[2:5]),
                        process.returncode,
                    )
                    return process.returncode or 1
            time.sleep(0.5)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """Stop processes in reverse order: SIGTERM their group, then SIGKILL."""
    for process in reversed(processes):
        if process.poll() is not None:
            continue
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            logger.warning(
                "pid %d did not stop in %g s; killing it", process.pid, STOP_TIMEOUT_S
            )
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def serve(*, server: bool, port: int, project_dir: Path = PROJECT_DIR) -> int:
    """Run the steps of this module until interrupted; returns the exit code."""
    processes: list[subprocess.Popen] = []
    try:
        api_url = None
        if server:
            processes.append(start_server(port))
            api_url = f"http://127.0.0.1:{port}/api"
        env = prefect_env(project_dir, api_url)
        os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
        for line in ensure_work_pools():
            logger.info("%s", line)
        register_deployments(project_dir, env)
        processes += start_workers(project_dir, env)
        logger.info(
            "serving: %d workers on pools %s; stop with Ctrl-C",
            len(POOLS),
            ", ".join(pool.name for pool in POOLS),
        )
        return wait_until_interrupted(processes)
    finally:
        stop_processes(processes)
