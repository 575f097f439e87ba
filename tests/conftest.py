"""Shared test set-up: no telemetry, Prefect home inside the test session."""

from __future__ import annotations

import os
import tempfile

import switchboard  # noqa: F401  (switches every library's telemetry off)

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="switchboard-prefect-"))
os.environ.pop("SWITCHBOARD_WEBHOOK_URL", None)
