"""A minimal clean snapshot of the required entities, written to a folder with single
files overridden: the starting point of the ingest tests and of tests that need a load."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# A minimal clean snapshot of the required entities; tests override single files.
CLEAN: dict[str, str] = {
    "accounts.csv": "account_id,name,created_at\nA1,Acme,2024-01-05\nA2,Beta,2024-01-06\n",
    "reps.csv": "rep_id,name,email,role\nR1,Ada,ada@example.com,AE\n",
    "hr.csv": "email,status\nada@example.com,active\n",
    "territories.csv": "territory_id,name,priority\nT1,West,1\n",
    "territory_members.csv": "territory_id,rep_id\nT1,R1\n",
}


def make_snapshot(folder: Path, files: Mapping[str, str | bytes | None]) -> Path:
    """CLEAN plus overrides; a None value removes that file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {**CLEAN, **files}.items():
        if content is None:
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder
