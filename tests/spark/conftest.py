"""One generated 10k-account org routed by the hourly pipeline on DuckDB, shared by the
Spark tests that compare with what it decided. Skips where pyspark is not installed
(`make spark-setup`)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.engine_inputs import Captured, captured_run

pytest.importorskip("pyspark", reason="the Spark tests need `make spark-setup`")

AS_OF = datetime(2026, 11, 23, 9, 0)


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    return captured_run(tmp_path_factory.mktemp("org10k"), accounts=10_000, seed=3, as_of=AS_OF)
