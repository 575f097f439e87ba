"""End-to-end set-up: one Prefect test harness and one generated org per session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

AS_OF = datetime(2026, 11, 23, 9, 0)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo org (the stories included), written once and never modified."""
    from switchboard.generate import generate_org

    out = tmp_path_factory.mktemp("org")
    generate_org(out, accounts=800, reps=60, seed=11, as_of=AS_OF)
    return out


@pytest.fixture(scope="session")
def clean_hourly(org: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One undisturbed hourly run of the org on a fresh warehouse: (its folder, holding
    w.duckdb and outbox/, and its run_id). Tests that need a warehouse after a good run
    copy the folder instead of routing the org again."""
    from flows.hourly_routing import hourly_routing

    folder = tmp_path_factory.mktemp("clean")
    summary = hourly_routing(snapshot=str(org), warehouse=str(folder / "w.duckdb"),
                             outbox=str(folder / "outbox"), as_of=AS_OF.isoformat())
    assert summary.status == "published"
    return folder, summary.run_id
