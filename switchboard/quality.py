"""Stage checks: Great Expectations suites built from data, run on pandas frames.

Every stage that hands data to the next (raw snapshot, marts, engine output) states what
that data must obey as a list of :class:`ExpectationSpec` and validates it here. A failed
check raises :class:`StageCheckFailed`, which names the stage, the failed expectations and
a few offending rows, so the flow can stop before anything is published.

The raw suites come from the data contracts (:func:`raw_specs`); ingest evaluates the
same specs row by row in Polars to quarantine bad rows, and :func:`check_raw` re-checks
the loaded tables with GX as a second, independent implementation of the contract.

Great Expectations is imported lazily: it costs seconds to import, and modules that only
catch :class:`StageCheckFailed` (CLI, flows, guards) should not pay for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import polars as pl

from switchboard import rules
from switchboard.config import RoutingConfig
from switchboard.contracts import Contract, load_contracts
from switchboard.engine.eligibility import AVAILABILITY
from switchboard.warehouse import read_table

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite, ExpectationValidationResult
    from great_expectations.core.batch_definition import BatchDefinition

# GX expectation names, shared with ingest so quarantine rows and GX results speak alike.
TABLE_COLUMNS = "expect_table_columns_to_match_set"
OF_TYPE = "expect_column_values_to_be_of_type"
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
MATCH_REGEX = "expect_column_values_to_match_regex"
BETWEEN = "expect_column_values_to_be_between"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
# Not a GX expectation: a foreign-key check that needs the parent table, so ingest runs it
# (contract references with on_missing: quarantine) and GX suites leave it out.
IN_REFERENCED_SET = "expect_column_values_to_be_in_referenced_set"

# How GX's pandas type check names each contract type. Frames are converted with Arrow
# dtypes (see to_pandas), whose scalar types are exactly these: int, float, bool, str,
# datetime.datetime, datetime.date and list. GX resolves "datetime" and "date" through
# pandas.core.dtypes.dtypes, which re-exports the datetime classes.
GX_TYPES: dict[str, str] = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "timestamp": "datetime",
    "date": "date",
    "list": "list",
}

RAW_ROW_ID = "_row_number"
EXAMPLE_COUNT = 5


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation as plain data: GX's snake_case name and its keyword arguments.

    Stages describe their checks as specs rather than GX objects so the same list can be
    evaluated by GX and, for the raw stage, by ingest's Polars quarantine.
    """

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        value = self.kwargs.get("column")
        return str(value) if value is not None else None

    @property
    def target(self) -> str:
        """The column(s) the expectation is about, for messages."""
        if self.column is not None and "row_condition" in self.kwargs:
            condition = self.kwargs["row_condition"]
            if isinstance(condition, Mapping):  # as GX's results give it back
                condition = condition.get("pass_through_filter", condition)
            return f"{self.column} where {condition}"
        if self.column is not None:
            return self.column
        if "column_list" in self.kwargs:
            return ", ".join(self.kwargs["column_list"])
        return "table"


@dataclass(frozen=True)
class ExpectationFailure:
    """One failed expectation with enough detail for an operator to find the rows."""

    expectation: str
    target: str
    unexpected_count: int | None = None
    examples: tuple[str, ...] = ()
    error: str | None = None

    def describe(self) -> str:
        text = f"{self.expectation} on {self.target}"
        details: list[str] = []
        if self.error:
            details.append(self.error)
        if self.unexpected_count is not None:
            noun = "row" if self.unexpected_count == 1 else "rows"
            details.append(f"{self.unexpected_count} {noun}")
        if self.examples:
            details.append("e.g. " + ", ".join(self.examples))
        return f"{text} ({'; '.join(details)})" if details else text


class StageCheckFailed(RuntimeError):
    """Data leaving a stage broke that stage's expectations; nothing downstream may run."""

    def __init__(self, stage: str, failures: Sequence[ExpectationFailure]) -> None:
        self.stage = stage
        self.failures = tuple(failures)
        listed = "; ".join(f.describe() for f in self.failures)
        super().__init__(f"stage check {stage} failed: {listed}")


# --------------------------------------------------------------------------- specs


def raw_specs(contract: Contract, *, include_references: bool = False) -> list[ExpectationSpec]:
    """The raw stage's expectations for one entity, derived from its contract only.

    Per column, in contract order: type, not-null (required), allowed values, pattern,
    min/max and uniqueness; then, for a contract's ``require_one_of``, the last of those
    columns must be set where the others are empty (see :func:`one_of_spec`); then a
    compound-key uniqueness check when the primary key has several columns. References
    need the parent table, so only ingest asks for them.
    """
    specs = [
        ExpectationSpec(TABLE_COLUMNS, {"column_set": contract.column_names, "exact_match": False})
    ]
    for column in contract.columns:
        name = column.name
        specs.append(ExpectationSpec(OF_TYPE, {"column": name, "type_": GX_TYPES[column.type]}))
        if column.required:
            specs.append(ExpectationSpec(NOT_NULL, {"column": name}))
        allowed = column.allowed_set
        if allowed is not None:
            specs.append(ExpectationSpec(IN_SET, {"column": name, "value_set": list(allowed)}))
        if column.pattern is not None:
            specs.append(ExpectationSpec(MATCH_REGEX, {"column": name, "regex": column.pattern}))
        if column.min is not None or column.max is not None:
            specs.append(
                ExpectationSpec(
                    BETWEEN, {"column": name, "min_value": column.min, "max_value": column.max}
                )
            )
        if column.unique:
            specs.append(ExpectationSpec(UNIQUE, {"column": name}))
    if contract.require_one_of:
        specs.append(one_of_spec(contract.require_one_of))
    if len(contract.key_columns) > 1:
        specs.append(ExpectationSpec(COMPOUND_UNIQUE, {"column_list": contract.key_columns}))
    if include_references:
        for column in contract.columns:
            ref = column.references
            if ref is not None and ref.on_missing == "quarantine":
                specs.append(
                    ExpectationSpec(
                        IN_REFERENCED_SET,
                        {"column": column.name, "entity": ref.entity, "ref_column": ref.column},
                    )
                )
    return specs


def one_of_spec(columns: Sequence[str]) -> ExpectationSpec:
    """A row needs at least one of ``columns``: GX's not-null check of the last one, on
    the rows where the others are all empty (a pandas row condition). Ingest recognises
    the row condition and evaluates the same rule in Polars (switchboard.ingest)."""
    *others, last = columns
    return ExpectationSpec(NOT_NULL, {
        "column": last,
        "row_condition": " & ".join(f"{column}.isnull()" for column in others),
        "condition_parser": "pandas",
    })


_SUITES: dict[str, ExpectationSuite] = {}


def build_suite(name: str, specs: Iterable[ExpectationSpec]) -> ExpectationSuite:
    """A GX suite holding exactly the given expectations (not saved to any context).

    Suites are built once per process for the same name and expectations (about 0.1 s
    each): a served worker or a test session validates with the same ones again."""
    specs = list(specs)
    key = json.dumps([name, [(s.type, dict(s.kwargs)) for s in specs]], sort_keys=True,
                     default=str)
    if key not in _SUITES:
        _SUITES[key] = _new_suite(name, specs)
    return _SUITES[key]


def _new_suite(name: str, specs: Iterable[ExpectationSpec]) -> ExpectationSuite:
    # GX takes seconds to import: load it on first use (as in _batch_definition).
    gx = import_great_expectations()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = []
    for spec in specs:
        if spec.type == IN_REFERENCED_SET:
            raise ValueError(f"{IN_REFERENCED_SET} is checked by ingest, not by GX")
        config = ExpectationConfiguration(type=spec.type, kwargs=dict(spec.kwargs))
        expectations.append(config.to_domain_obj())
    # Passed to the constructor: add_expectation() would look for a saved suite in a
    # project context, and these suites live only in memory.
    return gx.ExpectationSuite(name=name, expectations=expectations)


def raw_suite(contract: Contract) -> ExpectationSuite:
    """The GX suite `raw.<entity>` must pass after ingest."""
    return build_suite(f"raw.{contract.entity}", raw_specs(contract))


# ------------------------------------------------------------------------------ import

# Submodules GX imports when it loads (`from scipy import stats`) but only a few
# expectations use (KL divergence and the KS tests); no stage check here uses them.
# scipy.stats took about 1 s of GX's 3.5 s import on this project's machine
# (`python -X importtime -c "import great_expectations"`).
_DEFERRED_BY_GX = ("scipy.stats",)


def import_great_expectations() -> Any:
    """Import GX with the submodules of `_DEFERRED_BY_GX` loaded lazily.

    Each is registered with the standard library's LazyLoader and set on its package, so
    `from package import name` finds it without the import machinery, which would read an
    attribute and so execute it; it runs when code first reads one of its attributes (a
    KL-divergence check would). A module already imported, or not installed, is left as
    it is.
    """
    if "great_expectations" not in sys.modules:
        for name in _DEFERRED_BY_GX:
            package, _, child = name.rpartition(".")
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)  # imports the package itself
            if spec is None or spec.loader is None:
                continue
            spec.loader = importlib.util.LazyLoader(spec.loader)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            setattr(sys.modules[package], child, module)
    return importlib.import_module("great_expectations")


# --------------------------------------------------------------------------- validation

_gx_lock = threading.Lock()


@cache
def _batch_definition() -> BatchDefinition:
    """One ephemeral context with a pandas data source, reused by every validation.

    Progress bars and INFO logging are switched off, and so is GX's fingerprint of
    in-memory frames: it hashes every row of every frame under 1 GB (twice per
    validation), which costs more than the checks themselves and is only batch metadata.
    """
    gx = import_great_expectations()
    import great_expectations.execution_engine.pandas_execution_engine as pandas_engine
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins some of its module loggers at INFO (one announces a temporary docs folder
    # per context), so the parent's level is not enough.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    pandas_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("switchboard").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def to_pandas(frame: pl.DataFrame | pl.LazyFrame) -> pd.DataFrame:
    """A pandas frame with Arrow-backed dtypes, the form every stage check validates.

    Arrow dtypes keep nullable integers integral and dates distinct from timestamps, so
    GX's type expectations see the warehouse types rather than numpy's approximations.
    """
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    return frame.to_arrow().to_pandas(types_mapper=pd.ArrowDtype)


def validate_frame(
    df: pd.DataFrame, suite: ExpectationSuite, stage: str, *, row_id: str | None = None
) -> None:
    """Validate a pandas frame against a suite; raise StageCheckFailed naming what broke.

    ``row_id`` names a column (e.g. ``_row_number``) to quote in examples instead of the
    pandas index, when the frame has it.
    """
    # A pass needs only yes or no: BOOLEAN_ONLY skips collecting counts and examples,
    # which took about half of each validation (2.3 s against 1.0 s for the nine raw
    # tables of a 10k-account export). A failure is validated again for its details.
    with _gx_lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
        if batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"}).success:
            return
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": EXAMPLE_COUNT,
    }
    if row_id is not None and row_id in df.columns:
        result_format["unexpected_index_column_names"] = [row_id]
    with _gx_lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
        outcome = batch.validate(suite, result_format=result_format)
    if outcome.success:
        return
    failures = [_failure(result, row_id) for result in outcome.results if not result.success]
    raise StageCheckFailed(stage, failures)


def check_frame(
    frame: pl.DataFrame | pl.LazyFrame,
    specs: Iterable[ExpectationSpec],
    stage: str,
    *,
    row_id: str | None = None,
) -> None:
    """Check a Polars frame against specs: the one call a stage boundary needs."""
    validate_frame(to_pandas(frame), build_suite(stage, specs), stage, row_id=row_id)


def _failure(result: ExpectationValidationResult, row_id: str | None) -> ExpectationFailure:
    """Condense one GX result into counts and a few quotable examples."""
    config = result.expectation_config
    expectation = config.type if config is not None else "unknown expectation"
    kwargs: Mapping[str, Any] = config.kwargs if config is not None else {}
    target = ExpectationSpec(expectation, kwargs).target
    error = _exception_message(result.exception_info or {})
    if error is not None:
        return ExpectationFailure(expectation, target, error=error)
    details: Mapping[str, Any] = result.result or {}
    mismatched = (details.get("details") or {}).get("mismatched")
    if isinstance(mismatched, Mapping):
        missing = ", ".join(map(str, mismatched.get("missing") or [])) or "none"
        return ExpectationFailure(expectation, target, error=f"missing columns: {missing}")
    count = details.get("unexpected_count")
    if count is None and "observed_value" in details:  # an aggregate expectation (e.g. type)
        return ExpectationFailure(
            expectation, target, error=f"observed {details['observed_value']}"
        )
    values = list(details.get("partial_unexpected_list") or [])
    indexes = list(details.get("partial_unexpected_index_list") or [])
    examples = tuple(
        _example(v, i, row_id) for v, i in zip(values, indexes, strict=False)
    ) or tuple(_show(v) for v in values)
    return ExpectationFailure(
        expectation, target, int(count) if count is not None else None, examples[:EXAMPLE_COUNT]
    )


def _exception_message(info: Mapping[str, Any]) -> str | None:
    """The first line of the error GX caught, if the expectation could not be evaluated.

    GX reports it either at the top level or keyed by the metric that raised it.
    """
    candidates = [info, *(v for v in info.values() if isinstance(v, Mapping))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "raised an exception")
            return message.strip().splitlines()[0] if message.strip() else "raised an exception"
    return None


def _example(value: Any, index: Any, row_id: str | None) -> str:
    """Where and what: `_row_number 7: 'x'` with the id column, else `row 7: 'x'` (index)."""
    if isinstance(index, Mapping):
        where = f"{row_id} {index[row_id]}" if row_id in index else f"row {dict(index)}"
    else:
        where = f"row {index}"
    return f"{where}: {_show(value)}"


def _show(value: Any) -> str:
    """repr() of an offending value, with pandas' many missing markers shown as null."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "null"
    return repr(value)


def check_raw(
    con: duckdb.DuckDBPyConnection, contracts: Mapping[str, Contract] | None = None,
    *, changed_only: bool = False,
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
        * (pl.when(pl.col("record_type") == "account").then(weights.active_accounts).otherwise(0.0)
           + weights.inbound_last_7d)
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
            "record_type", owner_id="rep_id", rule=pl.lit("earlier_run"),
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
        .join(load.select("rep_id", "is_available"), left_on="owner_id", right_on="rep_id",
              how="left")
        .join(received, on="owner_id", how="left")
        .select(
            record_key=pl.concat_str("record_type", "record_id", separator="|"),
            rule="rule",
            has_one_target=pl.col("owner_id").is_null() != pl.col("queue").is_null(),
            owner_ok=(pl.col("rule") == "manager_review") | pl.col("owner_id").is_null()
            | pl.col("is_available").fill_null(False),
            headroom_ok=pl.col("headroom_ok").fill_null(True),
        )
    )


def engine_specs() -> list[ExpectationSpec]:
    from switchboard.engine.schema import RULES

    return [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "record_key"}),
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "rule"}),
        ExpectationSpec("expect_column_values_to_be_in_set",
                        {"column": "rule", "value_set": list(RULES)}),
        ExpectationSpec("expect_column_values_to_be_in_set",
                        {"column": "has_one_target", "value_set": [True]}),
        ExpectationSpec("expect_column_values_to_be_in_set",
                        {"column": "owner_ok", "value_set": [True]}),
        ExpectationSpec("expect_column_values_to_be_in_set",
                        {"column": "headroom_ok", "value_set": [True]}),
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
        "select rep_id, workload_index, capacity from marts.fct_rep_workload "
        "where as_of_date = ?", params=[as_of_date],
    ).pl()
    frame = engine_check_frame(decisions, reps, workload, config, leaver_rep_ids=leaver_rep_ids,
                               recent_assignments=recent_assignments)
    if frame.height:
        check_frame(frame, engine_specs(), "engine", row_id="record_key")


# --------------------------------------------------------------------------- marts stage

MART_SPECS: dict[str, list[ExpectationSpec]] = {
    "marts.dim_reps": [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "rep_id"}),
        ExpectationSpec("expect_column_values_to_be_in_set", {
            "column": "availability",
            "value_set": list(AVAILABILITY),
        }),
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "is_available"}),
        ExpectationSpec("expect_column_values_to_be_between",
                        {"column": "capacity", "min_value": 1}),
    ],
    "marts.fct_territory_matches": [
        ExpectationSpec("expect_column_values_to_be_in_set",
                        {"column": "record_type", "value_set": ["account", "lead"]}),
        ExpectationSpec("expect_column_values_to_be_in_set",
                        {"column": "match_source", "value_set": ["record", "account"]}),
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "territory_id"}),
    ],
    "marts.dim_accounts": [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "account_id"}),
    ],
    "marts.dim_leads": [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "lead_id"}),
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
    check_frame(workload, [
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "rep_id"}),
        ExpectationSpec("expect_column_values_to_be_between",
                        {"column": "workload_index", "min_value": 0}),
    ], "marts.fct_rep_workload")
