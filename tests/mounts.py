"""Small file systems for fault tests: a full disk and a read-only one.

Tests run as root, where chmod stops nobody from writing; a tmpfs mounted read-only or
with a tiny size does. Mounting needs root (CAP_SYS_ADMIN): without it the test is skipped
and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, *options: str) -> Iterator[Path]:
    """Mount a tmpfs at ``path`` with ``options`` (e.g. "ro", "size=1m") for the block."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip(
            "mounting a tmpfs needs root and mount(8); cannot fake a full or "
            "read-only disk otherwise (chmod does not stop root)"
        )
    path.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", ",".join(options or ("rw",)), "tmpfs", str(path)]
    mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.strip()}); a full or "
            "read-only disk cannot be faked without it"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
