"""Switchboard installed as a normal package: a wheel built from this repository,
installed (not editable) with the locked dependencies into a fresh virtualenv, runs
`switchboard --version` and `switchboard demo` from a folder outside the repository and
writes nothing into its own site-packages (switchboard/resources.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import switchboard

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TELEMETRY_OFF = switchboard.TELEMETRY_OFF


def _uv() -> str:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is installed into .venv by the Makefile"
    return uv


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
    return result


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `root` but __pycache__: a file's size and modification
    time; a folder's presence only (a new __pycache__ inside changes its time)."""
    entries: dict[str, tuple[int, int]] = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in folders:
            entries[os.path.relpath(os.path.join(folder, name), root)] = (-1, -1)
        for name in files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            entries[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns)
    return entries


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> None:
    """Not the session's Prefect test server (tests/e2e/conftest.py): the installed
    `switchboard` starts its own, as it does for a user."""


@pytest.mark.timeout(600)
def test_an_installed_wheel_runs_the_demo_outside_the_repository(tmp_path: Path) -> None:
    uv = _uv()
    # uv with the caller's own environment: its cache makes the install quick and offline.
    tools = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    tools.pop("VIRTUAL_ENV", None)

    # sdist, then the wheel from the sdist: checks MANIFEST.in as well as the build step.
    dist = tmp_path / "dist"
    _run(
        [uv, "build", "--quiet", "--out-dir", str(dist), "--python", sys.executable, str(ROOT)],
        cwd=tmp_path,
        env=tools,
        timeout=300,
    )
    (wheel,) = dist.glob("switchboard-*.whl")

    venv = tmp_path / "venv"
    _run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        cwd=tmp_path,
        env=tools,
        timeout=120,
    )
    python = venv / "bin" / "python"
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-r",
            str(ROOT / "requirements.lock"),
            str(wheel),
        ],
        cwd=tmp_path,
        env=tools,
        timeout=300,
    )
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
            env=tools,
            timeout=60,
        ).stdout.strip()
    )
    installed = _tree(site_packages)

    # The user's side: a folder outside the repository, a home of its own, no Prefect API
    # or Switchboard settings from the test session, only the new virtualenv on PATH.
    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "SWITCHBOARD_", "PYTHON", "VIRTUAL_ENV", "UV_"))
    }
    env.update(TELEMETRY_OFF)
    env.update(
        {
            "HOME": str(tmp_path / "home"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "COLUMNS": "160",
        }
    )

    where = _run(
        [
            str(python),
            "-c",
            "from importlib.metadata import version; "
            "from switchboard import resources; print(resources.__file__); "
            "print(resources.checkout()); print(version('switchboard'))",
        ],
        cwd=work,
        env=env,
        timeout=60,
    ).stdout.split()
    assert where == [
        str(site_packages / "switchboard" / "resources.py"),
        "None",
        switchboard.__version__,
    ]  # what --version prints is what was installed

    version = _run([str(venv / "bin" / "switchboard"), "--version"], cwd=work, env=env, timeout=60)
    assert version.stdout.strip() == (
        f"switchboard {switchboard.__version__} (engine {switchboard.ENGINE_VERSION})"
    )

    # The smallest demo org (the stories included): the same run, a few seconds sooner.
    demo = _run(
        [str(venv / "bin" / "switchboard"), "demo", "--accounts", "200"],
        cwd=work,
        env=env,
        timeout=400,
    )
    out = demo.stdout
    assert "✓ demo org in demo_org" in out
    assert "✓ dbt build" in out and "✓ publish" in out
    assert "Routing log — run " in out
    assert "accounts and" in out and "leads routed." in out
    assert "What happened to the demo org's stories" in out
    # The shipped first-touch SLA: an arrivals pass after the deadline re-routes the
    # demo request nobody touched (the story table wraps, so look at the routing log).
    assert "nobody has touched LEAD-SLA: an arrivals pass at" in out
    assert "│ sla_reroute │       1 │" in out
    assert (work / "warehouse.duckdb").is_file()
    assert len(list((work / "outbox").glob("*/summary.md"))) == 2

    # dbt ran in the working copy under the user's cache, not in site-packages.
    (copy,) = (tmp_path / "cache" / "switchboard" / "dbt").iterdir()
    assert copy.name.startswith(f"{switchboard.__version__}-")
    assert (copy / "target" / "manifests").is_dir()
    assert (copy / "logs").is_dir()

    after = _tree(site_packages)
    assert {
        name: after.get(name)
        for name in set(after) | set(installed)
        if after.get(name) != installed.get(name)
    } == {}
