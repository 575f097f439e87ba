"""The dbt project on the spark target builds the same intermediate models and marts as on
DuckDB.

One generated 10k-account org is routed once by the hourly pipeline on DuckDB (so the
routing state exists), its marts are rebuilt on DuckDB with that state (the hourly run
built them before it recorded its decisions), its dbt sources are copied into Spark
(switchboard.spark.load) and the project is built there with the same selection. Every
model of models/intermediate and models/marts must then hold the same rows on both,
compared order-insensitively after normalising types (floats to 9 significant digits,
timestamps as UTC), and every data test must end the same way on both. Lists compare
element by element: every list column's order is the model's (sorted in SQL, a hierarchy
walk's order, or the source's).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard import dbt, runs
from switchboard.config import load_config
from switchboard.dbt import DbtResult

pytestmark = pytest.mark.spark

AS_OF = datetime(2026, 11, 23, 9, 0)
ACCOUNTS = 10_000
SEED = 11
FLOAT_DIGITS = 9  # significant digits floats are compared to
SAMPLE_ROWS = 5  # rows of each side shown when a model differs
MODELS_DIR = dbt.PROJECT_DIR / "models"
LAYERS = ("intermediate", "marts")
COMPARED = tuple(
    (layer, path.stem) for layer in LAYERS for path in sorted((MODELS_DIR / layer).glob("*.sql"))
)


@dataclass(frozen=True)
class Builds:
    warehouse: Path  # the DuckDB warehouse, rebuilt after the routing run
    duckdb: DbtResult
    spark: DbtResult


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    from switchboard.generate import generate_org
    from switchboard.spark.load import load_from_duckdb
    from switchboard.spark.session import local_session

    root = tmp_path_factory.mktemp("spark-dbt")
    export = root / "export"
    generate_org(export, accounts=ACCOUNTS, seed=SEED, as_of=AS_OF)
    warehouse = root / "w.duckdb"
    summary = runs.hourly(
        snapshot=str(export),
        warehouse=str(warehouse),
        outbox=str(root / "outbox"),
        as_of=AS_OF.isoformat(),
    )
    assert summary.status == "published"
    config = load_config(None)
    # The hourly run built the marts before it recorded its decisions: build again, so
    # that both targets read the same routing state.
    on_duckdb = dbt.build(warehouse, AS_OF, config, selector=dbt.FIRST_RUN_OF_DAY)
    home = root / "spark"
    session = local_session(home)
    load_from_duckdb(warehouse, home, session=session)
    on_spark = dbt.build(home, AS_OF, config, selector=dbt.FIRST_RUN_OF_DAY, target="spark")
    yield Builds(warehouse, on_duckdb, on_spark)


def _spark_frame(name: str) -> pl.DataFrame:
    from switchboard.spark.session import local_session

    table = local_session().table(name)
    arrow = table.toArrow()
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _duckdb_frame(warehouse: Path, name: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(f"select * from {name}").pl()
    finally:
        con.close()


def _normalised(frame: pl.DataFrame) -> pl.DataFrame:
    """Types both engines agree on: integers as Int64, floats and decimals as Float64 to
    FLOAT_DIGITS significant digits, timestamps naive in UTC, nested values as JSON text
    (so that rows sort on every column)."""
    expressions: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_integer():
            expressions.append(column.cast(pl.Int64))
        elif dtype.is_float() or isinstance(dtype, pl.Decimal):
            expressions.append(column.cast(pl.Float64).round_sig_figs(FLOAT_DIGITS))
        elif isinstance(dtype, pl.Datetime):
            zoned = column.dt.convert_time_zone("UTC") if dtype.time_zone else column
            expressions.append(zoned.dt.replace_time_zone(None).dt.cast_time_unit("us"))
        elif isinstance(dtype, pl.List | pl.Array | pl.Struct):
            expressions.append(
                pl.when(column.is_null())
                .then(pl.lit(None, pl.String))
                .otherwise(pl.struct(column).struct.json_encode())
                .alias(name)
            )
        else:
            expressions.append(column)
    return frame.select(expressions)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True) if frame.width else frame


@pytest.mark.parametrize(("layer", "model"), COMPARED, ids=[m for _, m in COMPARED])
def test_model_equals_duckdb(builds: Builds, layer: str, model: str) -> None:
    name = f"{layer}.{model}"
    on_duckdb = _normalised(_duckdb_frame(builds.warehouse, name))
    on_spark = _normalised(_spark_frame(name))
    assert on_spark.columns == on_duckdb.columns, f"{name}: columns differ"
    assert on_spark.schema == on_duckdb.schema, f"{name}: column types differ"
    only_duckdb = on_duckdb.join(on_spark, on=on_duckdb.columns, how="anti", nulls_equal=True)
    only_spark = on_spark.join(on_duckdb, on=on_spark.columns, how="anti", nulls_equal=True)
    message = (
        f"{name}: {on_duckdb.height} rows on DuckDB, {on_spark.height} on Spark; "
        f"{only_duckdb.height} only on DuckDB, {only_spark.height} only on Spark\n"
        f"only on DuckDB:\n{_sorted(only_duckdb).head(SAMPLE_ROWS)}\n"
        f"only on Spark:\n{_sorted(only_spark).head(SAMPLE_ROWS)}"
    )
    assert on_spark.height == on_duckdb.height, message
    # The anti-joins miss duplicates; sorted rows compare them too.
    assert only_duckdb.is_empty() and only_spark.is_empty(), message
    assert _sorted(on_spark).equals(_sorted(on_duckdb)), message


def test_the_build_covers_every_compared_model(builds: Builds) -> None:
    """Each compared model was built on Spark (a model missing from the selection would be
    compared with what an earlier build left)."""
    built = {n.name for n in builds.spark.nodes if n.resource_type == "model"}
    assert {model for _, model in COMPARED} <= built


def test_data_tests_end_the_same_on_both_targets(builds: Builds) -> None:
    """Every data test of the build ran on Spark, none failed, and each passed or warned
    (with the same count of failing rows) exactly as on DuckDB. The snapshots' tests run
    too, on the models that stand in for the snapshots there (docs/decisions/0025)."""

    def outcomes(result: DbtResult) -> dict[str, tuple[str, int | None]]:
        return {n.name: (n.status, n.failures) for n in result.nodes if n.resource_type == "test"}

    on_duckdb = outcomes(builds.duckdb)
    on_spark = outcomes(builds.spark)
    assert any("snap_" in name for name in on_spark)
    assert on_spark == on_duckdb
    assert not any(n.failed for n in builds.spark.nodes)
