"""The territory coverage marts computed from hand-made frames by the dbt models' own SQL.

The models (dbt_project/models/marts/fct_territory_overlaps.sql,
fct_territory_coverage_gaps.sql, fct_unstaffed_territories.sql) read only `ref()`s, so
rendering them with `ref` naming the frames' tables runs the project's SQL on DuckDB
without a dbt parse; the report's loader then reads them as it reads a warehouse."""

from __future__ import annotations

from typing import Any

import duckdb
import jinja2
import polars as pl

from switchboard import dbt
from switchboard.report.data import COVERAGE_MARTS, CoverageData, read_coverage

MODELS = ("fct_territory_overlaps", "fct_territory_coverage_gaps", "fct_unstaffed_territories")


class _Adapter:
    """dbt's `adapter.dispatch` as dbt-duckdb resolves it: the `default__` implementation
    of the project's cross-database macros (macros/cross_db/)."""

    def __init__(self) -> None:
        self.macros: Any = None

    def dispatch(self, name: str, namespace: str | None = None) -> Any:
        return getattr(self.macros, f"default__{name}")


def _cross_db_macros(env: jinja2.Environment) -> Any:
    adapter = _Adapter()
    source = (dbt.PROJECT_DIR / "macros" / "cross_db" / "list_aggregates.sql").read_text(
        encoding="utf-8"
    )
    adapter.macros = env.from_string(source).make_module({"adapter": adapter, "return": str})
    return adapter.macros


def _relation(name: str) -> str:
    return f"{'staging' if name.startswith('stg_') else 'marts'}.{name}"


def coverage_marts(
    *,
    matches: pl.DataFrame,
    territories: pl.DataFrame,
    members: pl.DataFrame,
    accounts: pl.DataFrame,
    leads: pl.DataFrame,
    reps: pl.DataFrame,
) -> CoverageData:
    """Build the coverage marts over these frames, standing in for fct_territory_matches,
    stg_plan__territories, dim_territory_members, dim_accounts, dim_leads and dim_reps."""
    inputs = {
        "fct_territory_matches": matches,
        "stg_plan__territories": territories,
        "dim_territory_members": members,
        "dim_accounts": accounts,
        "dim_leads": leads,
        "dim_reps": reps,
    }
    con = duckdb.connect()
    try:
        con.execute("create schema marts; create schema staging")
        for name, frame in inputs.items():
            con.register("input_frame", frame)
            con.execute(f"create table {_relation(name)} as select * from input_frame")
            con.unregister("input_frame")
        env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        macros = _cross_db_macros(env)
        for model in MODELS:
            sql = (dbt.PROJECT_DIR / "models" / "marts" / f"{model}.sql").read_text(
                encoding="utf-8"
            )
            rendered = env.from_string(sql).render(
                ref=_relation, config=lambda **_: "", ordered_string_agg=macros.ordered_string_agg
            )
            con.execute(f"create table {_relation(model)} as {rendered}")
        assert {table for table, _ in COVERAGE_MARTS.values()} == {
            _relation(model) for model in MODELS
        }
        return read_coverage(con)
    finally:
        con.close()
