"""The parsed dbt project, paid for once per project content rather than once per run.

dbt parses its project (532 macros, 31 models, 149 tests) before every invocation unless
its partial-parse state matches, and that state is invalidated whenever `--vars` change:
the hourly build's as-of changes every run, so each run paid a full parse (6.5 s of a 19 s
build at 10k accounts, whatever the book's size). Nothing in the project reads a var at
parse time except `changes` (macros/changes.sql picks the materialisation with it), so one
parsed manifest per project content and value of that var serves every run: vars are read
when each node is compiled, from the invocation's own `--vars`. The manifest is kept in
the process (a served worker parses once) and on disk (a one-shot run loads it in 0.2 s).
dbt-duckdb names the database after the warehouse file's stem and writes that name into
every parsed node, so the stem is part of the key too.

switchboard.dbt imports this module when it first invokes dbt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import switchboard
from switchboard.dbt import DbtBuildFailed, project_dir
from switchboard.resources import DBT_PROJECT_PARTS

_MANIFESTS: dict[str, Any] = {}


def manifest_cache_dir() -> Path:
    """Where parsed manifests are kept: the target/ folder of the project dbt runs."""
    return project_dir() / "target" / "manifests"


def project_digest() -> str:
    """A digest of every file dbt parses, and of the dbt and Switchboard versions."""
    from dbt.version import __version__ as dbt_version

    digest = hashlib.sha256(f"{dbt_version}|{switchboard.__version__}".encode())
    project = project_dir()
    for part in DBT_PROJECT_PARTS:
        root = project / part
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(project)).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _parse_key(variables: dict[str, Any], warehouse: Path, target: str = "local") -> str:
    flags = f"changes-{str(bool(variables.get('changes'))).lower()}"
    database = hashlib.sha256(Path(warehouse).stem.encode()).hexdigest()[:8]
    # The target picks the adapter, whose macros and relation names the manifest holds.
    suffix = "" if target == "local" else f"-{target}"
    return f"{project_digest()[:16]}-{database}-{flags}{suffix}"


def _load_manifest(path: Path) -> Any:
    from dbt.contracts.graph.manifest import Manifest

    try:
        return Manifest.from_msgpack(path.read_bytes())
    except Exception:  # a cache from another dbt version or a torn file: parse again
        return None


def _save_manifest(manifest: Any, path: Path) -> None:
    """Write atomically; a read-only install simply goes without the disk cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(manifest.to_msgpack())
        os.replace(scratch, path)
    except OSError:
        pass


def manifest(
    variables: dict[str, Any], warehouse: Path, base_args: Sequence[str], target: str = "local"
) -> Any:
    """The parsed project for these vars, this warehouse's database name and this dbt
    target (`base_args` name it too): from this process, from disk, or parsed now (dbt
    reads the warehouse path from the environment the caller set)."""
    from dbt.cli.main import dbtRunner

    key = _parse_key(variables, warehouse, target)
    if key in _MANIFESTS:
        return _MANIFESTS[key]
    path = manifest_cache_dir() / f"{key}.msgpack"
    parsed = _load_manifest(path) if path.is_file() else None
    if parsed is None:
        outcome = dbtRunner().invoke(["parse", *base_args, "--vars", json.dumps(variables)])
        if outcome.exception is not None or not outcome.success:
            text = str(outcome.exception or "").strip() or repr(outcome.exception)
            raise DbtBuildFailed(f"dbt parse failed: {text}")
        parsed = outcome.result
        _save_manifest(parsed, path)
    _MANIFESTS[key] = parsed
    return parsed
