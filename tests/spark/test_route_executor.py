"""The Spark executor (switchboard.spark.route) decides exactly what the in-process engine
decides, on a generated 10k-account org whose inputs a real hourly run read from DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from switchboard.engine.inputs import FRAME_COLUMNS
from switchboard.engine.partition import GROUP, assign_groups
from switchboard.spark.arrow import local_frame
from tests.engine_inputs import Captured

pytestmark = pytest.mark.spark

KEYS = ["record_type", "record_id"]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from switchboard.spark.session import local_session

    session = local_session(tmp_path_factory.mktemp("spark"), shuffle_partitions=4)
    yield session


@pytest.fixture(scope="module")
def routed(run: Captured, spark: Any) -> Any:
    from switchboard.spark.arrow import spark_frame
    from switchboard.spark.route import route_on_spark

    data = run.inputs
    frames = {name: spark_frame(spark, getattr(data, name).collect()) for name in FRAME_COLUMNS}
    scope = spark_frame(spark, data.scope.collect()) if data.scope is not None else None
    return route_on_spark(spark, frames, run.config, scope=scope, **run.options)


def test_decisions_match_the_in_process_engine_record_by_record(run: Captured, routed: Any) -> None:
    expected = run.result.decisions.sort(KEYS)
    got = local_frame(routed.decisions).sort(KEYS)
    assert got.height == expected.height > 1_000
    compared = ["record_type", "record_id", "owner_id", "queue", "rule", "territory_id", "conflict"]
    assert_frame_equal(got.select(compared), expected.select(compared))
    assert_frame_equal(got.select(expected.columns), expected)


def test_every_other_output_matches(run: Captured, routed: Any) -> None:
    expected = run.result
    sorts = {
        "conflicts": [*KEYS, "conflict_type"],
        "rep_state": ["rep_id"],
        "round_robin": ["territory_id"],
        "skill_gaps": ["territory_id", "skill"],
        "sla_breaches": ["record_id"],
    }
    assert expected.conflicts.height > 0
    for name, keys in sorts.items():
        want = getattr(expected, name).sort(keys)
        got = local_frame(getattr(routed, name)).select(want.columns).sort(keys)
        assert_frame_equal(got, want.cast(got.schema), check_dtypes=False)


def test_groups_match_the_polars_partition_and_none_spans_two_tasks(
    run: Captured, routed: Any
) -> None:
    local = assign_groups(run.inputs.normalised()).records.sort(KEYS)
    spark = local_frame(routed.groups).select(*KEYS, GROUP).sort(KEYS)
    assert_frame_equal(spark, local)
    metrics = routed.metrics
    assert metrics.height > 1  # several tasks routed
    placed = metrics.select("task", "group_ids").explode("group_ids")
    assert placed["group_ids"].is_duplicated().sum() == 0
    assert placed.height == local[GROUP].n_unique()
    assert metrics["records"].sum() == local.height
    assert (metrics["seconds"] > 0).all()
