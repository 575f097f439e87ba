"""One generated 10k-account org routed by the hourly pipeline on DuckDB, shared by the
Spark tests that compare with what it decided, and the same org built and routed on
Spark. Skips where pyspark is not installed (`make spark-setup`)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.engine_inputs import Captured, captured_run

pytest.importorskip("pyspark", reason="the Spark tests need `make spark-setup`")

AS_OF = datetime(2026, 11, 23, 9, 0)


@dataclass(frozen=True)
class SparkBuild:
    """The org's dbt sources loaded into Spark under ``home``, the dbt project built on the
    spark target, and what the Spark executor routed from that build (SparkRouted)."""

    home: Path
    session: Any
    routed: Any


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    return captured_run(tmp_path_factory.mktemp("org10k"), accounts=10_000, seed=3, as_of=AS_OF)


@pytest.fixture(scope="session")
def spark_build(run: Captured, tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    """The route stage's Spark path on the run's warehouse as its dbt build left it."""
    from switchboard import dbt
    from switchboard.spark.load import load_from_duckdb
    from switchboard.spark.pipeline import route_spark_marts
    from switchboard.spark.session import local_session

    # One SparkSession a process: an earlier module's session (and catalog) is reused;
    # the loaded sources are external tables under this folder.
    home = tmp_path_factory.mktemp("spark-target")
    session = local_session(home)
    load_from_duckdb(run.built, home, session=session)
    dbt.build(home, run.options["as_of"], run.config, selector=dbt.FIRST_RUN_OF_DAY, target="spark")
    routed = route_spark_marts(session, run.config, **run.options)
    # Later modules build the same models again in the process's one catalog, which
    # replaces their files: the outputs are materialised now, not read lazily later.
    kept = {
        f.name: getattr(routed, f.name).localCheckpoint()
        for f in fields(routed)
        if hasattr(getattr(routed, f.name), "localCheckpoint")
    }
    return SparkBuild(home, session, replace(routed, **kept))
