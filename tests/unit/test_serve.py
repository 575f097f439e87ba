"""`switchboard serve`: which deployments of prefect.yaml it serves, without a server; and
the servers the CLI starts die with it, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from switchboard import serve


def test_prefect_yaml_lists_the_four_deployments_with_their_schedules() -> None:
    specs = {s["name"]: s for s in serve.load_deployment_specs()}
    assert set(specs) == {
        "hourly-routing",
        "arrivals",
        "departure-redistribution",
        "territory-change",
    }
    assert specs["hourly-routing"]["schedules"] == [{"cron": "0 * * * *", "timezone": "UTC"}]
    assert specs["arrivals"]["schedules"] == [{"interval": 60}]
    # Shared definitions resolve to the same parameters for the scheduled flows; arrivals
    # also watches the export, warm, until just before a scheduled start an hour on.
    arrivals = dict(specs["arrivals"]["parameters"])
    watch = arrivals.pop("watch_seconds")
    assert 3600 - 60 < watch < 3600 and watch % 60 > 0
    assert arrivals == specs["hourly-routing"]["parameters"]


def test_serving_an_unknown_deployment_fails_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_server(*_: object, **__: object) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(serve, "local_server", no_server)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(ValueError, match=r"no deployment named nightly in prefect\.yaml"):
        serve.serve({}, only=("arrivals", "nightly"))


def test_build_deployments_applies_overrides_and_schedules() -> None:
    specs = [s for s in serve.load_deployment_specs() if s["name"] == "arrivals"]
    (deployment,) = serve.build_deployments(specs, {"snapshot": "/data/snap", "unknown": "ignored"})
    assert deployment.name == "arrivals"
    assert deployment.parameters["snapshot"] == "/data/snap"
    assert "unknown" not in deployment.parameters
    (schedule,) = deployment.schedules
    assert schedule.schedule.interval.total_seconds() == 60
    # one worker: the minute's run is cancelled while the last one still watches
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"


# ---------------------------------------------------------------- servers die with the CLI

PARENT_STARTS_A_CHILD = """
import subprocess, sys, time
from switchboard.serve import with_lifeline
child = subprocess.Popen(with_lifeline([sys.executable, "-c", "import time; time.sleep(300)"]))
print(child.pid, flush=True)
time.sleep(300)
"""

PARENT_STARTS_THE_SERVER = """
import time
from prefect.server.api.server import SubprocessASGIServer
from switchboard.serve import start_temporary_server_early
start_temporary_server_early()()
server = SubprocessASGIServer()
print(server.server_process.pid, server.api_url, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _start(script: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line, f"the parent died before starting its child (exit {parent.wait()})"
    return parent, line


def _kill(parent: subprocess.Popen[str]) -> None:
    parent.send_signal(signal.SIGKILL)
    parent.wait(30)


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only"
)


@linux_only
def test_a_process_started_with_a_lifeline_dies_when_its_starter_is_killed() -> None:
    parent, line = _start(PARENT_STARTS_A_CHILD)
    child = int(line)
    try:
        time.sleep(0.5)
        assert _alive(child), "the lifeline must not end the child while its parent lives"
        _kill(parent)
        assert _gone_within(child, 5), "the child outlived its parent's SIGKILL"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


@linux_only
@pytest.mark.slow
def test_the_cli_s_temporary_prefect_server_dies_with_a_cli_killed_by_sigkill() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    # A fresh PREFECT_HOME migrates its database first: on 2 busy cores, more than the
    # default 20 s.
    env.update(
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="true",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )
    parent, line = _start(PARENT_STARTS_THE_SERVER, env)
    pid_text, api_url = line.split()
    server = int(pid_text)
    try:
        # The thread that started it has long returned from start(): the server stays up.
        time.sleep(2)
        assert _alive(server)
        assert httpx.get(f"{api_url}/health", timeout=5).status_code == 200
        _kill(parent)
        assert _gone_within(server, 20), "the Prefect server outlived the killed CLI"
    finally:
        if parent.poll() is None:
            _kill(parent)
        if _alive(server):
            os.kill(server, signal.SIGKILL)
