"""`switchboard serve`: the deployments of prefect.yaml, served from this machine.

Schedules need a real Prefect API. When PREFECT_API_URL is not set, a local server is
started for the lifetime of the command and stopped with it (Ctrl-C stops both).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from switchboard import resources

PREFECT_YAML = resources.prefect_yaml()


def load_deployment_specs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The deployments of prefect.yaml (anchors resolved by the YAML loader)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data.get("deployments", []))


# Run as `python -c _LIFELINE <parent pid> <command...>`: ask Linux to SIGTERM this process
# when its parent dies (prctl PR_SET_PDEATHSIG = 1), make sure the parent did not die
# already, then become the command (the death signal survives exec).
_LIFELINE = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def with_lifeline(command: Sequence[str]) -> list[str]:
    """``command``, made to end when the process that starts it ends, however it ends.

    A Prefect server the CLI started must not outlive it: a CLI killed with SIGKILL gets
    no chance to stop it, and an orphaned server keeps its port and database. On Linux the
    command runs under PR_SET_PDEATHSIG, through a small exec wrapper rather than a
    `preexec_fn` (which is unsafe in a process with threads, as the CLI is). The kernel
    sends the signal when the *thread* that started the process ends, so start it from a
    thread that lives as long as the process. Elsewhere the command is returned unchanged.
    """
    if not sys.platform.startswith("linux"):
        return list(command)
    return [sys.executable, "-c", _LIFELINE, str(os.getpid()), *command]


class _LifelinePopen:
    """Stands in for the `subprocess` module of prefect.server.api.server while our thread
    starts the temporary server: the same module, but Popen adds the lifeline."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(args: Sequence[str], *rest: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        return subprocess.Popen(with_lifeline(args), *rest, **kwargs)


@contextmanager
def _server_with_lifeline() -> Iterator[None]:
    import prefect.server.api.server as prefect_server

    original = prefect_server.subprocess
    prefect_server.subprocess = _LifelinePopen()  # type: ignore[assignment]
    try:
        yield
    finally:
        prefect_server.subprocess = original


def start_temporary_server_early() -> Callable[[], None]:
    """Start, in a background thread, the temporary Prefect server that Prefect itself
    would start at the first flow call when no API is configured; return a function that
    waits until it answers. A CLI run calls this first and imports dbt and Great
    Expectations meanwhile, so the server's ~6 s start-up overlaps that ~6 s of imports.

    With PREFECT_API_URL set, or the temporary server disabled, there is nothing to start.
    If the early start fails, Prefect tries again (and reports) at the first flow call.

    The server dies with this process, even one killed by SIGKILL (see `with_lifeline`):
    the thread that starts it stays parked for the life of the process, because the
    kernel's death signal follows the starting thread, not the process.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return lambda: None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's client asks for
    ready = threading.Event()

    def start() -> None:
        try:
            with contextlib.suppress(Exception), _server_with_lifeline():
                server.start()
        finally:
            ready.set()
        if server.server_process is not None:
            threading.Event().wait()  # park: the server lives as long as this thread

    thread = threading.Thread(target=start, name="prefect-server", daemon=True)
    thread.start()

    def wait_until_ready() -> None:
        ready.wait()

    return wait_until_ready


def _flow_for(entrypoint: str) -> Any:
    file, _, name = entrypoint.partition(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def build_deployments(specs: list[dict[str, Any]], overrides: dict[str, Any]) -> list[Any]:
    """RunnerDeployments for `prefect.serve`, one per prefect.yaml entry."""
    deployments = []
    for spec in specs:
        flow = _flow_for(spec["entrypoint"])
        params = {k: v for k, v in (spec.get("parameters") or {}).items() if v is not None}
        params.update({k: v for k, v in overrides.items() if k in params})
        kwargs: dict[str, Any] = {
            "name": spec["name"],
            "parameters": params,
            "description": spec.get("description"),
            "tags": spec.get("tags") or [],
        }
        limit = spec.get("concurrency_limit")
        if isinstance(limit, dict):  # {limit, collision_strategy}: prefect deploy's form
            from prefect.client.schemas.objects import ConcurrencyLimitConfig

            kwargs["concurrency_limit"] = ConcurrencyLimitConfig(**limit)
        elif limit is not None:
            kwargs["concurrency_limit"] = int(limit)
        for schedule in spec.get("schedules") or []:
            if "cron" in schedule:
                kwargs["cron"] = schedule["cron"]
            elif "interval" in schedule:
                kwargs["interval"] = timedelta(seconds=float(schedule["interval"]))
        deployments.append(flow.to_deployment(**kwargs))
    return deployments


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_server(timeout_seconds: float = 60) -> Iterator[str]:
    """Start `prefect server start` on 127.0.0.1 and yield its API URL."""
    port = _free_port()
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
    }
    # Its own session: a Ctrl-C in the terminal reaches `serve` (and the flow runs it
    # started), which then stops this server last, instead of the server dying first
    # under a runner still talking to it.
    # with_lifeline: a `serve` killed outright takes its server with it (this is the
    # main thread, which lives as long as the process).
    process = subprocess.Popen(
        with_lifeline([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode()[-500:] if process.stderr else ""
                raise RuntimeError(f"prefect server exited early: {error.strip()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not become healthy on {url}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def serve(overrides: dict[str, Any], on_ready: Any = None, only: tuple[str, ...] = ()) -> None:
    """Serve the deployments (those named in ``only``, else all) until interrupted."""
    from prefect import serve as prefect_serve

    specs = load_deployment_specs()
    if only:
        unknown = sorted(set(only) - {s["name"] for s in specs})
        if unknown:
            raise ValueError(
                f"no deployment named {', '.join(unknown)} in prefect.yaml; "
                f"there are {', '.join(s['name'] for s in specs)}"
            )
        specs = [s for s in specs if s["name"] in only]
    if os.environ.get("PREFECT_API_URL"):
        if on_ready:
            on_ready(os.environ["PREFECT_API_URL"], [s["name"] for s in specs])
        prefect_serve(*build_deployments(specs, overrides))
        return
    with local_server() as url:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: url}):
            if on_ready:
                on_ready(url, [s["name"] for s in specs])
            prefect_serve(*build_deployments(specs, overrides))
