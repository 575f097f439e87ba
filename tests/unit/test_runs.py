"""A one-shot command runs switchboard.runs without Prefect unless a Prefect API is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from switchboard import runs
from switchboard.cli import running
chosen = running._flow("hourly")
print(json.dumps({"plain": chosen is runs.hourly, "flow": hasattr(chosen, "fn"),
                  "prefect": "prefect" in sys.modules}))
"""


def _probe(folder: Path, **env: str) -> dict[str, bool]:
    base = {
        k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILES_PATH")
    }
    base.update(PYTHONPATH=str(ROOT), PREFECT_HOME=str(folder / "prefect-home"), **env)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=folder,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_without_a_prefect_api_the_run_is_the_plain_function_and_prefect_stays_unloaded(
    tmp_path: Path,
) -> None:
    assert _probe(tmp_path) == {"plain": True, "flow": False, "prefect": False}


def test_a_prefect_api_from_the_environment_or_a_settings_file_makes_it_a_flow_run(
    tmp_path: Path,
) -> None:
    api = "http://127.0.0.1:9/api"
    assert _probe(tmp_path, PREFECT_API_URL=api) == {"plain": False, "flow": True, "prefect": True}
    (tmp_path / "prefect.toml").write_text(f'[api]\nurl = "{api}"\n')
    assert _probe(tmp_path)["flow"]
    (tmp_path / "prefect.toml").write_text("[logging]\nlevel = 'INFO'\n")
    found = _probe(tmp_path)  # a settings file without an API: read, then run plainly
    assert found["plain"] and found["prefect"]
