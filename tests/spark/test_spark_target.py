"""The Spark target end to end: the sources of a DuckDB warehouse, as the day's dbt build
left it before the route stage, are loaded into Spark, the dbt project is built on the
spark target, and the Spark executor routes from the tables that build left
(switchboard.spark.pipeline). Its decisions are the in-process engine's on DuckDB, record
by record: owner, queue, rule, territory, conflict, and every other column."""

from __future__ import annotations

from typing import Any

import pytest
from polars.testing import assert_frame_equal

from switchboard.spark.arrow import local_frame
from tests.engine_inputs import Captured
from tests.spark.conftest import SparkBuild

pytestmark = pytest.mark.spark

KEYS = ["record_type", "record_id"]
COMPARED = ["record_type", "record_id", "owner_id", "queue", "rule", "territory_id", "conflict"]


@pytest.fixture(scope="module")
def routed(spark_build: SparkBuild) -> Any:
    return spark_build.routed


def test_decisions_from_the_spark_build_match_duckdb_record_by_record(
    run: Captured, routed: Any
) -> None:
    expected = run.result.decisions.sort(KEYS)
    got = local_frame(routed.decisions).sort(KEYS)
    assert got.height == expected.height > 1_000
    assert_frame_equal(got.select(COMPARED), expected.select(COMPARED))
    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)


def test_conflicts_and_rep_state_from_the_spark_build_match_duckdb(
    run: Captured, routed: Any
) -> None:
    for name, keys in {"conflicts": [*KEYS, "conflict_type"], "rep_state": ["rep_id"]}.items():
        want = getattr(run.result, name).sort(keys)
        got = local_frame(getattr(routed, name)).select(want.columns).sort(keys)
        assert got.height == want.height > 0
        assert_frame_equal(got, want.cast(got.schema), check_dtypes=False)
