"""What a stage must obey, as plain data (ExpectationSpec, the raw specs of a contract)
and as the GX suites built from it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchboard.contracts import Contract
from switchboard.quality.gx import import_great_expectations

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite

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
    return ExpectationSpec(
        NOT_NULL,
        {
            "column": last,
            "row_condition": " & ".join(f"{column}.isnull()" for column in others),
            "condition_parser": "pandas",
        },
    )


_SUITES: dict[str, ExpectationSuite] = {}


def build_suite(name: str, specs: Iterable[ExpectationSpec]) -> ExpectationSuite:
    """A GX suite holding exactly the given expectations (not saved to any context).

    Suites are built once per process for the same name and expectations (about 0.1 s
    each): a served worker or a test session validates with the same ones again."""
    specs = list(specs)
    key = json.dumps([name, [(s.type, dict(s.kwargs)) for s in specs]], sort_keys=True, default=str)
    if key not in _SUITES:
        _SUITES[key] = _new_suite(name, specs)
    return _SUITES[key]


def _new_suite(name: str, specs: Iterable[ExpectationSpec]) -> ExpectationSuite:
    # GX takes seconds to import: load it on first use (as in _batch_definition).
    gx = import_great_expectations()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

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
