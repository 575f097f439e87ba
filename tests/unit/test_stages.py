"""Which module a stage's function comes from: switchboard.pipeline, or for a run on the
Spark target switchboard.spark.stages where it defines the function. Needs no pyspark:
the Spark stages import it only when they run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from switchboard import pipeline, stages
from switchboard.config import load_config
from switchboard.pipeline import make_context
from switchboard.spark import stages as on_spark

AS_OF = datetime(2026, 11, 23, 9, 0)
ON_SPARK = {"ingest", "transform", "route", "check_output", "record", "publish_run"}


def _context(tmp_path: Path, **options: object) -> pipeline.RunContext:
    snapshot = tmp_path / "org"
    snapshot.mkdir(exist_ok=True)
    (snapshot / "accounts.csv").write_text("account_id\nA-1\n", encoding="utf-8")
    return make_context(
        snapshot=snapshot,
        warehouse_path=tmp_path / "w.duckdb",
        outbox=tmp_path / "outbox",
        config=load_config(None),
        as_of=AS_OF,
        allow_backdated=True,
        **options,  # type: ignore[arg-type]
    )


def test_a_run_with_a_spark_home_takes_the_book_s_stages_from_spark(tmp_path: Path) -> None:
    local = _context(tmp_path)
    spark = _context(tmp_path, spark_home=tmp_path / "home")
    assert spark.spark_home == (tmp_path / "home").resolve() and local.spark_home is None
    for stage in stages.STAGES:
        assert stage.module(local) is pipeline
        expected = on_spark if stage.function in ON_SPARK | {"done_summary"} else pipeline
        assert stage.module(spark) is expected, stage.name
    # The ledger, the guards and a stopped run stay the control warehouse's, as on DuckDB.
    assert {s.function for s in stages.STAGES if s.module(spark) is pipeline} == {
        "prepare",
        "deliver_pending",
        "refresh_as_of_views",
        "guard",
        "stop",
    }


def test_the_spark_target_is_its_own_run_of_the_same_export(tmp_path: Path) -> None:
    local = _context(tmp_path)
    spark = _context(tmp_path, spark_home=tmp_path / "home")
    assert spark.fingerprint != local.fingerprint and spark.run_id != local.run_id


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"mode": "departure", "leaver_rep_ids": ("R-1",)}, "departure"),
        ({"dry_run": True}, "a dry run"),
    ],
)
def test_only_the_hourly_run_runs_on_spark(
    tmp_path: Path, options: dict[str, object], refused: str
) -> None:
    with pytest.raises(ValueError, match=f"--spark-home: only the hourly run .*not {refused}"):
        _context(tmp_path, spark_home=tmp_path / "home", **options)
