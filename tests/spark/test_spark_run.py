"""An hourly run on the Spark target end to end, through the same stages as a DuckDB run
(switchboard.stages, switchboard.spark.stages): the snapshot checked and loaded by Spark
tasks, the dbt project built on the spark target, the Spark executor, the run recorded in
run-partitioned Spark tables and published through the control warehouse's ledger and
outbox. It publishes what the DuckDB run of the same export publishes."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard import runs
from switchboard.guards import GuardTripped
from switchboard.summary import RunSummary
from tests.spark.conftest import AS_OF

pytestmark = pytest.mark.spark

KEYS = ["record_type", "record_id"]
COMPARED = [*KEYS, "owner_id", "queue", "rule", "territory_id", "conflict", "previous_owner_id"]


@dataclass(frozen=True)
class TwoRuns:
    org: Path
    folder: Path
    duckdb: RunSummary
    spark: RunSummary

    @property
    def home(self) -> Path:
        return self.folder / "spark-home"

    @property
    def control(self) -> Path:
        return self.folder / "control.duckdb"


def _on_spark(org: Path, folder: Path) -> RunSummary:
    return runs.hourly(
        str(org),
        warehouse=str(folder / "control.duckdb"),
        outbox=str(folder / "spark-outbox"),
        as_of=AS_OF.isoformat(),
        spark_home=str(folder / "spark-home"),
    )


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    from switchboard.generate import generate_org

    folder = tmp_path_factory.mktemp("spark-run")
    org = folder / "org"
    generate_org(org, accounts=1_000, reps=60, seed=11, as_of=AS_OF)
    on_duckdb = runs.hourly(
        str(org),
        warehouse=str(folder / "duck.duckdb"),
        outbox=str(folder / "duck-outbox"),
        as_of=AS_OF.isoformat(),
    )
    # A first run: the process's one catalog may hold another module's recorded routing
    # tables (external: dropping them leaves their files).
    from switchboard.spark.load import RECORDED
    from switchboard.spark.session import local_session

    spark = local_session(folder / "spark-home")
    for name in RECORDED:
        spark.sql(f"drop table if exists {name}")
    return TwoRuns(org, folder, on_duckdb, _on_spark(org, folder))


def _query(warehouse: Path, sql: str, params: list[object] | None = None) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql, params=params).pl()
    finally:
        con.close()


def _moves(outbox: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(outbox.glob("*/reassignments.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return sorted(rows, key=lambda r: (r["record_type"], r["record_id"]))


def test_an_hourly_run_on_spark_publishes_what_the_duckdb_run_publishes(two: TwoRuns) -> None:
    from switchboard.spark.publish import recorded_outcome
    from switchboard.spark.session import local_session

    assert two.duckdb.status == two.spark.status == "published"
    assert two.spark.records == two.duckdb.records > 50
    assert two.spark.by_rule == two.duckdb.by_rule
    assert two.spark.conflicts == two.duckdb.conflicts
    assert two.spark.alerts_by_type == two.duckdb.alerts_by_type
    expected = _query(
        two.folder / "duck.duckdb",
        "select * from routing.decisions where run_id = ?",
        [two.duckdb.run_id],
    ).sort(KEYS)
    got = recorded_outcome(local_session(two.home), two.spark.run_id).decisions.sort(KEYS)
    assert_frame_equal(got.select(COMPARED), expected.select(COMPARED))
    # What the CRM loads and what people are told: the same moves, one row each.
    moves = _moves(two.folder / "spark-outbox")
    assert moves and [{k: r[k] for k in KEYS} for r in moves] == [
        {k: r[k] for k in KEYS} for r in _moves(two.folder / "duck-outbox")
    ]
    # The control warehouse holds the ledger, the messages and the data tests, not the book.
    ledger = _query(two.control, "select run_id, status from routing.runs")
    assert ledger.rows() == [(two.spark.run_id, "published")]
    tests = _query(
        two.control,
        "select count(*) n, count(*) filter (where status in ('fail', 'error')) bad "
        "from routing.data_tests",
    )
    assert tests["n"].item() > 100 and tests["bad"].item() == 0
    sent = _query(two.control, "select count(*) n from routing.outbox_messages")
    assert sent["n"].item() > 0


def test_the_same_export_again_publishes_nothing_new(two: TwoRuns) -> None:
    before = _moves(two.folder / "spark-outbox")
    again = _on_spark(two.org, two.folder)
    assert again.run_id == two.spark.run_id and again.status == "published"
    assert "nothing new" in again.message
    assert _moves(two.folder / "spark-outbox") == before


def test_a_header_only_reps_export_stops_the_spark_run_before_anything_is_written(
    two: TwoRuns, tmp_path: Path
) -> None:
    org = tmp_path / "org"
    shutil.copytree(two.org, org)
    reps = org / "reps.csv"
    reps.write_text(reps.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    shutil.copyfile(two.control, tmp_path / "control.duckdb")
    with pytest.raises(GuardTripped, match="reps"):
        _on_spark(org, tmp_path)
    ledger = _query(
        tmp_path / "control.duckdb", "select status from routing.runs order by started_at"
    )
    assert ledger["status"].to_list() == ["published", "stopped"]
    assert not (tmp_path / "spark-home" / "sources" / "raw").exists()
