"""The stage checks: raw tables against their contracts, the marts the engine reads, and
the engine's decisions; each raises StageCheckFailed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from switchboard import rules
from switchboard.config import RoutingConfig
from switchboard.contracts import Contract, load_contracts
from switchboard.engine.eligibility import AVAILABILITY
from switchboard.quality.runner import (
    ExpectationFailure,
    StageCheckFailed,
    check_frame,
    to_pandas,
    validate_frame,
)
from switchboard.quality.specs import TABLE_COLUMNS, ExpectationSpec, raw_suite
from switchboard.warehouse import read_table

RAW_ROW_ID = "_row_number"


def check_raw(
    con: duckdb.DuckDBPyConnection,
    contracts: Mapping[str, Contract] | None = None,
    *,
    changed_only: bool = False,
) -> None:
    """Validate every `raw.<entity>` against its contract suite after ingest.

    Ingest already quarantined rows that break the contract, so this should always pass;
    it guards against ingest itself drifting from the contracts. Stops at the first
    entity that fails. With ``changed_only``, only the rows the last full load added or
    changed (switchboard.changes) are validated: the others passed when they were loaded.
    """
    from switchboard.changes import changed_rows

    contracts = load_contracts() if contracts is None else contracts
    for entity, contract in contracts.items():
        table = f"raw.{entity}"
        try:
            rows = changed_rows(con, entity, contract) if changed_only else read_table(con, table)
            frame = to_pandas(rows)
        except duckdb.CatalogException:
            missing = ExpectationFailure(TABLE_COLUMNS, "table", error=f"{table} does not exist")
            raise StageCheckFailed(table, [missing]) from None
        if changed_only and frame.empty:
            continue
        validate_frame(frame, raw_suite(contract), table, row_id=RAW_ROW_ID)


# --------------------------------------------------------------------------- engine stage


# The rules whose owner the territory's capacity pick chose.
PLACED_RULES = rules.PLACED_RULES


def engine_check_frame(
    decisions: pl.DataFrame,
    reps: pl.DataFrame,
    workload: pl.DataFrame,
    config: RoutingConfig,
    *,
    leaver_rep_ids: Sequence[str] = (),
    recent_assignments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per decision with the facts the engine-stage expectations look at.

    ``recent_assignments`` (record_type, rep_id) are records given after ``workload`` was
    built (earlier arrivals passes); they count towards each rep's index.

    - ``record_key``: record_type|record_id, unique when every record is decided once;
    - ``has_one_target``: exactly one of owner_id / queue is set;
    - ``owner_ok``: a new owner is available today (manager review keeps the old owner);
    - ``headroom_ok``: a rep given territory records (or leads re-routed for their
      first-touch SLA, placed by the same pick) was below high-water before the last
      of them, i.e. nobody was pushed above high-water while the territory had room. The
      leads that follow an account the territory placed (rule account_owner with the
      account's territory_id) come after it and may take the rep past high-water, so
      they count with the last record.
    """
    weights = config.workload.weights
    load = (
        workload.select("rep_id", "workload_index", "capacity")
        .join(reps.select("rep_id", "is_available"), on="rep_id", how="full", coalesce=True)
        .with_columns(
            pl.col("workload_index").fill_null(0.0),
            pl.col("capacity").fill_null(config.workload.default_capacity).cast(pl.Float64),
            pl.col("is_available").fill_null(False) & ~pl.col("rep_id").is_in(list(leaver_rep_ids)),
        )
    )
    delta = (
        100
        * (
            pl.when(pl.col("record_type") == "account").then(weights.active_accounts).otherwise(0.0)
            + weights.inbound_last_7d
        )
        / pl.col("capacity")
    )
    given = decisions.filter(
        pl.col("owner_id").is_not_null() & (pl.col("rule") != "manager_review")
    ).select(
        "record_type",
        "owner_id",
        "rule",
        follows_placement=(pl.col("rule") == "account_owner")
        & pl.col("territory_id").is_not_null(),
    )
    if recent_assignments is not None:
        earlier = recent_assignments.select(
            "record_type",
            owner_id="rep_id",
            rule=pl.lit("earlier_run"),
            follows_placement=pl.lit(False),
        )
        given = pl.concat([earlier, given])
    received = (
        given.join(load, left_on="owner_id", right_on="rep_id", how="left")
        .with_columns(delta=delta)
        .group_by("owner_id")
        .agg(
            final_index=pl.col("workload_index").first() + pl.col("delta").sum(),
            last_delta=pl.col("delta").filter(pl.col("rule").is_in(PLACED_RULES)).max()
            + pl.col("delta").filter(pl.col("follows_placement")).sum(),
        )
        .select(
            "owner_id",
            headroom_ok=pl.col("last_delta").is_null()
            | (pl.col("final_index") - pl.col("last_delta") < config.workload.high_water + 1e-6),
        )
    )
    return (
        decisions.select("record_type", "record_id", "owner_id", "queue", "rule")
        .join(
            load.select("rep_id", "is_available"), left_on="owner_id", right_on="rep_id", how="left"
        )
        .join(received, on="owner_id", how="left")
        .select(
            record_key=pl.concat_str("record_type", "record_id", separator="|"),
            rule="rule",
            has_one_target=pl.col("owner_id").is_null() != pl.col("queue").is_null(),
            owner_ok=(pl.col("rule") == "manager_review")
            | pl.col("owner_id").is_null()
            | pl.col("is_available").fill_null(False),
            headroom_ok=pl.col("headroom_ok").fill_null(True),
        )
    )


def engine_specs() -> list[ExpectationSpec]:
    from switchboard.engine.schema import RULES

    return [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "record_key"}),
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "rule"}),
        ExpectationSpec(
            "expect_column_values_to_be_in_set", {"column": "rule", "value_set": list(RULES)}
        ),
        ExpectationSpec(
            "expect_column_values_to_be_in_set", {"column": "has_one_target", "value_set": [True]}
        ),
        ExpectationSpec(
            "expect_column_values_to_be_in_set", {"column": "owner_ok", "value_set": [True]}
        ),
        ExpectationSpec(
            "expect_column_values_to_be_in_set", {"column": "headroom_ok", "value_set": [True]}
        ),
    ]


def check_engine_output(
    con: duckdb.DuckDBPyConnection,
    decisions: pl.DataFrame,
    config: RoutingConfig,
    *,
    as_of_date: Any,
    leaver_rep_ids: Sequence[str] = (),
    recent_assignments: pl.DataFrame | None = None,
) -> None:
    """The engine stage's expectations (see engine_check_frame); raises StageCheckFailed."""
    reps = con.sql("select rep_id, is_available from marts.dim_reps").pl()
    workload = con.sql(
        "select rep_id, workload_index, capacity from marts.fct_rep_workload where as_of_date = ?",
        params=[as_of_date],
    ).pl()
    frame = engine_check_frame(
        decisions,
        reps,
        workload,
        config,
        leaver_rep_ids=leaver_rep_ids,
        recent_assignments=recent_assignments,
    )
    if frame.height:
        check_frame(frame, engine_specs(), "engine", row_id="record_key")


# --------------------------------------------------------------------------- marts stage

MART_SPECS: dict[str, list[ExpectationSpec]] = {
    "marts.dim_reps": [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "rep_id"}),
        ExpectationSpec(
            "expect_column_values_to_be_in_set",
            {"column": "availability", "value_set": list(AVAILABILITY)},
        ),
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "is_available"}),
        ExpectationSpec(
            "expect_column_values_to_be_between", {"column": "capacity", "min_value": 1}
        ),
    ],
    "marts.fct_territory_matches": [
        ExpectationSpec(
            "expect_column_values_to_be_in_set",
            {"column": "record_type", "value_set": ["account", "lead"]},
        ),
        ExpectationSpec(
            "expect_column_values_to_be_in_set",
            {"column": "match_source", "value_set": ["record", "account"]},
        ),
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "territory_id"}),
    ],
    "marts.dim_accounts": [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "account_id"})
    ],
    "marts.dim_leads": [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "lead_id"})
    ],
}


def check_marts(con: duckdb.DuckDBPyConnection, as_of_date: Any) -> None:
    """The marts the engine reads, checked at the boundary (dbt tests guard the SQL itself).

    Only the columns the expectations name are read, to keep the check cheap at scale.
    """
    for table, specs in MART_SPECS.items():
        columns = sorted({s.column for s in specs if s.column})
        check_frame(read_table(con, table, columns), specs, table)
    workload = con.sql(
        "select rep_id, workload_index from marts.fct_rep_workload where as_of_date = ?",
        params=[as_of_date],
    ).pl()
    check_frame(
        workload,
        [
            ExpectationSpec("expect_column_values_to_be_unique", {"column": "rep_id"}),
            ExpectationSpec(
                "expect_column_values_to_be_between", {"column": "workload_index", "min_value": 0}
            ),
        ],
        "marts.fct_rep_workload",
    )
