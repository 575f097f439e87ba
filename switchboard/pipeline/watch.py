"""What keeps an arrivals pass quick: dbt and Great Expectations imported before the
clock is read (or alongside the first stages), and the snapshot folder watched for the
next export."""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path


def warm_up() -> None:
    """Import dbt and Great Expectations now (about 6 s in a fresh process) rather than
    inside the first stage that needs them. An arrivals pass calls this before it reads
    the clock: its as-of decides which records it routes, so the imports then delay no
    record's owner — a served deployment starts every pass in a fresh process.

    Great Expectations first: ingest's raw check needs it before the build needs dbt."""
    from switchboard.quality.gx import import_great_expectations

    import_great_expectations()
    importlib.import_module("dbt.cli.main")


def warm_up_in_background() -> threading.Thread:
    """:func:`warm_up` in a thread, so that the imports (mostly Python, holding the GIL)
    overlap the first stages (reading and checking files in Polars and DuckDB, which
    release it). A stage that imports dbt or GX meanwhile waits for that import to finish
    (Python's per-module import locks). pandas and pyarrow, which both sides import, are
    imported here first, so the two threads never wait for each other's modules."""
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    thread = threading.Thread(target=warm_up, name="switchboard-warm-up", daemon=True)
    thread.start()
    return thread


def snapshot_signature(snapshot: Path | str) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file in the snapshot folder: what changes
    when an export lands, read without opening a file."""
    return tuple(
        sorted(
            (path.name, stat.st_size, stat.st_mtime_ns)
            for path in Path(snapshot).iterdir()
            if path.is_file() and (stat := path.stat())
        )
    )


def wait_for_export(
    snapshot: Path | str, seen: tuple[tuple[str, int, int], ...], until: float, poll_seconds: float
) -> bool:
    """Poll the snapshot folder until its signature differs from `seen` (True) or the
    monotonic clock would pass `until` before the next poll (False). Exports should land
    whole (written elsewhere, then moved in), as for every run."""
    while time.monotonic() + poll_seconds <= until:
        time.sleep(poll_seconds)
        if snapshot_signature(snapshot) != seen:
            return True
    return False
