"""Throw-away copies for runs that must leave the real ones alone: a snapshot with some
entities replaced (a territory change's plan) and a scratch warehouse (dry runs,
what-ifs)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from switchboard.pipeline.context import RunContext


def overlay_snapshot(snapshot: Path, replacements: dict[str, Path]) -> Path:
    """A temporary snapshot: the original files, with some entities replaced."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-overlay-"))
    replaced = set(replacements)
    for path in Path(snapshot).iterdir():
        if path.is_file() and path.stem not in replaced:
            (folder / path.name).symlink_to(path.resolve())
    for entity, source in replacements.items():
        shutil.copyfile(source, folder / f"{entity}{source.suffix}")
    return folder


def scratch(ctx: RunContext) -> RunContext:
    """The same run against a throw-away copy of the warehouse (dry runs, what-ifs): it sees
    the real history (workload, hysteresis) and leaves the real warehouse untouched."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-scratch-"))
    copy = folder / ctx.warehouse.name
    if ctx.warehouse.exists():
        shutil.copyfile(ctx.warehouse, copy)
    return replace(ctx, warehouse=copy, outbox=folder / "outbox", dry_run=True)
