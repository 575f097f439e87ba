"""Shared test set-up: no telemetry, Prefect home inside the test session."""

from __future__ import annotations

import os
import tempfile

import pytest

import switchboard  # noqa: F401  (switches every library's telemetry off)

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="switchboard-prefect-"))
for _sink_url in ("SWITCHBOARD_WEBHOOK_URL", "SWITCHBOARD_EMAIL_URL", "SWITCHBOARD_TEAMS_URL"):
    os.environ.pop(_sink_url, None)

# The slowest files (whole minutes of flow runs), started first: `make test` hands whole
# files to two workers in collection order (pytest_configure below), and a long file
# started last keeps one worker busy alone at the end. Longest first, by each file's summed
# setup and call times measured with `pytest --durations=0`.
SLOWEST_FIRST = (
    "e2e/test_reliability.py",
    "e2e/test_incremental_equals_full.py",
    "e2e/test_installed_package.py",
    "e2e/test_flows_later_runs.py",
    "unit/dbt_project/test_models.py",
    "unit/dbt_project/test_builds.py",
    "e2e/test_flows.py",
    "e2e/test_faults.py",
    "e2e/test_cli.py",
    "e2e/test_bad_exports.py",
    "e2e/test_header_mapping.py",
    "e2e/test_kill.py",
    "e2e/test_silent_webhook.py",
    "unit/ingest/test_fuzz.py",
    "unit/engine/test_properties.py",
    "unit/engine/test_capacity_properties.py",
    "unit/test_serve.py",
    "e2e/test_deliveries.py",
    "e2e/test_report.py",
    "e2e/test_leads_follow.py",
    "unit/dbt_project/test_routing_marts.py",
    "unit/test_bench_smoke.py",
    "unit/test_queued.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist's --dist loadfile would hand out the files with the most tests first
    # (its --loadscope-reorder is on by default), which leaves the slow files of few tests
    # to the end: keep the collection order instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.as_posix()
        return next(
            (i for i, name in enumerate(SLOWEST_FIRST) if path.endswith(name)), len(SLOWEST_FIRST)
        )

    items.sort(key=rank)  # stable: the order within a file and among the rest is kept
