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
