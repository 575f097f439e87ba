"""The contract checks of one entity's rows: typed good rows, the quarantine entries with
their reasons, and the rows set aside.

The contract's raw expectations (switchboard.quality.specs.raw_specs, the specs the GX suites
are built from) become Polars expressions evaluated in phases over the whole frame: each
row on its own, then references to other entities, then uniqueness among the rows that
passed. A bad value in an optional column clears that cell only; anything else sets the
row aside, with one quarantine entry per (row, column, expectation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import polars as pl

from switchboard.contracts import Column, Contract
from switchboard.ingest.parse import normalise, parse
from switchboard.ingest.read import RAGGED, ROW_NUMBER, TRUNCATED
from switchboard.mapping import REP_MATCH_EXPECTATION, unmatched_column
from switchboard.quality import specs as q

ROW_COLUMN = "_row"  # quarantine column_name for a problem with the whole line
FIELD_COUNT_EXPECTATION = "expect_row_field_count_to_equal_header"
TRUNCATION_EXPECTATION = "expect_last_line_to_be_complete"
# raw.quarantine.action: the row was set aside, or only the cell was cleared (an optional
# column's bad value) and the row loaded without it.
ROW_QUARANTINED, CELL_CLEARED = "row_quarantined", "cell_cleared"
MAX_VALUE_CHARS = 200
REASON_VALUE_CHARS = 60

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "entity": pl.String(),
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "expectation": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
    "action": pl.String(),
}
TYPE_NOUNS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false/1/0/yes/no)",
    "timestamp": "an ISO 8601 timestamp",
    "date": "an ISO 8601 date (YYYY-MM-DD)",
}


def _n(name: str) -> str:
    return f"__norm__{name}"


def _t(name: str) -> str:
    return f"__typed__{name}"


PASSED = "__passed__"  # rows that passed every earlier phase, rebound before each phase


@dataclass(frozen=True)
class _Check:
    """One expectation as Polars expressions over the prepared frame.

    Phase 0 judges each row on its own; phase 1 (references) looks at other tables;
    phase 2 (uniqueness) must know which rows survive the others, so that the first good
    occurrence of a key stays and only the later ones are quarantined. Expressions of
    later phases may use ``pl.col(PASSED)``.

    A check that ``clears_cell`` (a bad value in an optional column) does not set the row
    aside: the cell is cleared, the quarantine logs it, and the row loads without it.
    """

    column: str
    expectation: str
    failed: pl.Expr
    value: pl.Expr
    reason: pl.Expr
    phase: int = 0
    # Columns computed in the check's phase, before ``failed``, over *all* rows. A reason
    # is evaluated on the failing rows only, so anything it needs from other rows (such
    # as the row a duplicate repeats) must be materialised here.
    helpers: tuple[pl.Expr, ...] = ()
    clears_cell: bool = False


@dataclass(frozen=True)
class Validated:
    """One entity's rows after the contract checks.

    ``good``: the loaded rows (contract columns and types plus `_row_number`);
    ``quarantine``: one entry per (row, column, expectation); ``rejected``: the rows set
    aside, typed like ``good`` (cells that did not parse are empty), with the first
    reason each was set aside (`problem_column`, `problem_value`, `problem_reason`).
    """

    good: pl.DataFrame
    quarantine: pl.DataFrame
    rejected: pl.DataFrame


def validate_entity(
    source: pl.DataFrame, contract: Contract, parents: Mapping[str, pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split one entity's text rows into typed good rows and quarantine entries.

    ``source`` holds the contract columns as text (missing optional columns may be absent)
    plus `_row_number`; ``parents`` the already loaded entities that references point at.
    Returns (rows in contract order and types plus `_row_number`, quarantine entries with
    row_number, column_name, expectation, value, reason, action — sorted by row).
    """
    checked = validate(source, contract, parents)
    return checked.good, checked.quarantine


def validate(
    source: pl.DataFrame, contract: Contract, parents: Mapping[str, pl.DataFrame]
) -> Validated:
    """:func:`validate_entity`, also returning the rows it set aside (see Validated)."""
    missing = [c for c in contract.column_names if c not in source.columns]
    frame = source.lazy().with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
    frame = frame.with_columns(
        normalise(c.name, c.type).alias(_n(c.name)) for c in contract.columns
    )
    frame = frame.with_columns(
        parse(pl.col(_n(c.name)), c.type).cast(c.polars_type).alias(_t(c.name))
        for c in contract.columns
    )

    checks = _checks(contract, parents)
    checks[:0] = [
        _rep_match_check(c) for c in contract.columns if unmatched_column(c.name) in source.columns
    ]
    if TRUNCATED in source.columns:
        checks.insert(0, _truncation_check())
    if RAGGED in source.columns:
        checks.insert(0, _field_count_check())
    flags = [f"__failed_{i}__" for i in range(len(checks))]
    row_flags = [f for f, c in zip(flags, checks, strict=True) if not c.clears_cell]
    for phase in (0, 1, 2):
        earlier = [
            f for f, c in zip(flags, checks, strict=True) if c.phase < phase and not c.clears_cell
        ]
        current = [(f, c) for f, c in zip(flags, checks, strict=True) if c.phase == phase]
        if not current:
            continue
        passed = ~pl.any_horizontal(earlier) if earlier else pl.lit(True)
        helpers = [helper for _, check in current for helper in check.helpers]
        frame = frame.with_columns(passed.alias(PASSED))
        if helpers:
            frame = frame.with_columns(helpers)
        frame = frame.with_columns(
            check.failed.fill_null(False).alias(flag) for flag, check in current
        )
    checked = frame.collect()

    set_aside = pl.any_horizontal(row_flags) if row_flags else pl.lit(False)
    cleared: dict[str, list[str]] = {}
    for flag, check in zip(flags, checks, strict=True):
        if check.clears_cell:
            cleared.setdefault(check.column, []).append(flag)

    def typed(column: Column) -> pl.Expr:
        value = pl.col(_t(column.name))
        if column.name in cleared:
            value = pl.when(pl.any_horizontal(cleared[column.name])).then(None).otherwise(value)
        return value.alias(column.name)

    good = checked.filter(~set_aside).select(
        *[typed(c) for c in contract.columns], pl.col(ROW_NUMBER)
    )
    entries = [
        checked.lazy()
        .filter(pl.col(flag))
        .select(
            pl.col(ROW_NUMBER).alias("row_number"),
            pl.lit(check.column).alias("column_name"),
            pl.lit(check.expectation).alias("expectation"),
            check.value.str.slice(0, MAX_VALUE_CHARS).alias("value"),
            pl.when(set_aside | (not check.clears_cell))
            .then(check.reason)
            .otherwise(_sentence(check.reason, CLEARED_SUFFIX))
            .alias("reason"),
            pl.when(set_aside)
            .then(pl.lit(ROW_QUARANTINED))
            .otherwise(pl.lit(CELL_CLEARED))
            .alias("action"),
        )
        for flag, check in zip(flags, checks, strict=True)
    ]
    schema = {k: v for k, v in QUARANTINE_SCHEMA.items() if k not in ("run_id", "entity")}
    if entries:
        quarantine = pl.concat(entries).sort("row_number", maintain_order=True).collect()
        quarantine = quarantine.cast(schema)  # type: ignore[arg-type]
    else:
        quarantine = pl.DataFrame(schema=schema)
    first_problem = (
        quarantine.filter(pl.col("action") == ROW_QUARANTINED)
        .group_by("row_number", maintain_order=True)
        .first()
        .select(
            pl.col("row_number").alias(ROW_NUMBER),
            problem_column=pl.col("column_name"),
            problem_value=pl.col("value"),
            problem_reason=pl.col("reason"),
        )
    )
    rejected = (
        checked.filter(set_aside)
        .select(*[typed(c) for c in contract.columns], pl.col(ROW_NUMBER))
        .join(first_problem, on=ROW_NUMBER, how="left", maintain_order="left")
    )
    return Validated(good, quarantine, rejected)


def stamped(quarantine: pl.DataFrame, run_id: str, entity: str) -> pl.DataFrame:
    """One entity's quarantine entries as raw.quarantine rows: run_id and entity first."""
    return quarantine.select(
        pl.lit(run_id).alias("run_id"), pl.lit(entity).alias("entity"), pl.all()
    ).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]


def _quoted(text: pl.Expr) -> pl.Expr:
    """'value' for a reason sentence, shortened so reasons stay one readable line."""
    short = (
        pl.when(text.str.len_chars() > REASON_VALUE_CHARS)
        .then(pl.concat_str([text.str.slice(0, REASON_VALUE_CHARS - 3), pl.lit("...")]))
        .otherwise(text)
    )
    return pl.concat_str([pl.lit("'"), short, pl.lit("'")])


def _sentence(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _checks(contract: Contract, parents: Mapping[str, pl.DataFrame]) -> list[_Check]:
    """The contract's raw expectations (the same specs the GX suite holds) as Polars.

    An expectation type ingest cannot evaluate is an error, so the quarantine and the GX
    suite cannot silently drift apart.
    """
    per_column: dict[str, Callable[[q.ExpectationSpec, Column], _Check | None]] = {
        q.OF_TYPE: lambda _, column: _type_check(column),
        # A not-null check with a row condition is the contract's require_one_of.
        q.NOT_NULL: lambda spec, column: (
            _one_of_check(contract.require_one_of)
            if "row_condition" in spec.kwargs
            else _not_null_check(column)
        ),
        q.IN_SET: _in_set_check,
        q.MATCH_REGEX: _regex_check,
        q.BETWEEN: _between_check,
        q.UNIQUE: lambda _, column: _unique_check([column.name], q.UNIQUE, contract.order_by),
        q.IN_REFERENCED_SET: lambda spec, column: _reference_check(spec, column, contract, parents),
    }
    checks: list[_Check] = []
    for spec in q.raw_specs(contract, include_references=True):
        if spec.type == q.TABLE_COLUMNS:
            continue  # guaranteed by _map_columns: missing required columns stop the run
        if spec.type == q.COMPOUND_UNIQUE:
            checks.append(
                _unique_check(
                    list(spec.kwargs["column_list"]), q.COMPOUND_UNIQUE, contract.order_by
                )
            )
            continue
        if spec.type not in per_column:
            raise ValueError(f"ingest cannot evaluate expectation {spec.type} ({spec.target})")
        column = contract.column(spec.column or spec.target)
        check = per_column[spec.type](spec, column)
        if check is not None:
            if spec.type in CELL_EXPECTATIONS and _is_optional(column, contract):
                check = replace(check, clears_cell=True)
            checks.append(check)
    return checks


# Expectations about one value: in an optional column, failing one clears that cell only.
CELL_EXPECTATIONS = (q.OF_TYPE, q.IN_SET, q.MATCH_REGEX, q.BETWEEN)
CLEARED_SUFFIX = "; the cell was cleared and the row kept"


def _is_optional(column: Column, contract: Contract) -> bool:
    """A column the row can do without: not required, not part of a key, not unique, not
    one whose contract sets the row aside on a bad value (``on_invalid: quarantine_row``),
    and not a reference whose absence makes the row unusable."""
    ref = column.references
    return not (
        column.on_invalid == "quarantine_row"
        or column.required
        or column.unique
        or column.name in contract.key_columns
        or (ref is not None and ref.on_missing == "quarantine")
    )


def _field_count_check() -> _Check:
    """A line with more fields than the header: its values may sit in the wrong columns."""
    extra = pl.col(RAGGED)
    return _Check(
        column=ROW_COLUMN,
        expectation=FIELD_COUNT_EXPECTATION,
        failed=extra.is_not_null(),
        value=extra,
        reason=_sentence(
            "the line has ",
            (extra.str.count_matches(",") + 1).cast(pl.String),
            " more field(s) than the header (",
            _quoted(extra),
            "): an unquoted comma or a stray delimiter",
        ),
    )


def _about(column: Column, text: str) -> pl.Expr:
    """ "<column> '<value>' <text>", the shape of most reasons."""
    return _sentence(f"{column.name} ", _quoted(pl.col(_n(column.name))), f" {text}")


def _type_check(column: Column) -> _Check | None:
    if column.type in ("string", "list"):
        return None  # any text is a string, and any text splits into a list
    name = column.name
    failed = pl.col(_n(name)).is_not_null() & pl.col(_t(name)).is_null()
    reason = _about(column, f"is not {TYPE_NOUNS[column.type]}")
    return _Check(name, q.OF_TYPE, failed, pl.col(name), reason)


def _not_null_check(column: Column) -> _Check:
    name = column.name
    reason = pl.lit(f"{name} is required but empty")
    return _Check(name, q.NOT_NULL, pl.col(_n(name)).is_null(), pl.col(name), reason)


def _one_of_check(columns: Sequence[str]) -> _Check:
    """A row with every one of ``columns`` empty (an activity on neither an account nor a
    lead) is set aside: there is nothing it is about."""
    named = (
        f"neither {columns[0]} nor {columns[1]}"
        if len(columns) == 2
        else "none of " + ", ".join(columns)
    )
    reason = pl.lit(f"{named} is set: the row needs at least one of them")
    failed = pl.all_horizontal(pl.col(_n(c)).is_null() for c in columns)
    return _Check(", ".join(columns), q.NOT_NULL, failed, pl.lit(None, pl.String), reason)


def _in_set_check(spec: q.ExpectationSpec, column: Column) -> _Check:
    allowed = list(spec.kwargs["value_set"])
    values = pl.Series(allowed, dtype=column.polars_type, strict=False)
    failed = ~pl.col(_t(column.name)).is_in(values.implode())
    if column.format == "timezone":
        reason = _about(column, "is not an IANA time zone name (such as Europe/Berlin)")
    else:
        reason = _about(column, "is not one of " + ", ".join(str(v) for v in allowed))
    return _Check(column.name, q.IN_SET, failed, pl.col(column.name), reason)


def _regex_check(spec: q.ExpectationSpec, column: Column) -> _Check:
    pattern = str(spec.kwargs["regex"])
    failed = ~pl.col(_n(column.name)).str.contains(pattern)
    hint = column.pattern_hint
    reason = _about(column, f"is not {hint}" if hint else f"does not match {pattern}")
    return _Check(column.name, q.MATCH_REGEX, failed, pl.col(column.name), reason)


def _between_check(spec: q.ExpectationSpec, column: Column) -> _Check:
    typed = pl.col(_t(column.name))
    low, high = spec.kwargs.get("min_value"), spec.kwargs.get("max_value")
    below = typed < low if low is not None else pl.lit(False)
    above = typed > high if high is not None else pl.lit(False)
    too_low = _about(column, f"is below the minimum {_number(low)}") if low is not None else None
    too_high = _about(column, f"is above the maximum {_number(high)}") if high is not None else None
    reason = pl.when(below).then(too_low).otherwise(too_high)
    return _Check(column.name, q.BETWEEN, below | above, pl.col(column.name), reason)


def _reference_check(
    spec: q.ExpectationSpec, column: Column, contract: Contract, parents: Mapping[str, pl.DataFrame]
) -> _Check:
    """The value must exist among the *loaded* rows of the referenced entity."""
    entity, ref_column = str(spec.kwargs["entity"]), str(spec.kwargs["ref_column"])
    typed = pl.col(_t(column.name))
    if entity == contract.entity:  # a self-reference: any row that passed phase 0
        known = pl.col(_t(ref_column)).filter(pl.col(PASSED)).implode()
    else:
        keys = parents[entity].get_column(ref_column).drop_nulls().unique()
        known = pl.lit(keys.cast(column.polars_type, strict=False).implode())
    failed = typed.is_not_null() & ~typed.is_in(known)
    reason = _about(column, f"is not among the loaded {entity}")
    return _Check(column.name, q.IN_REFERENCED_SET, failed, pl.col(column.name), reason, 1)


def _unique_check(columns: list[str], expectation: str, order_by: Sequence[str] = ()) -> _Check:
    """Every good row of a key but one fails. The one that stays is the newest by the
    contract's ``order_by`` columns (newest first, empty last), else the first in the file."""
    keys = [pl.col(_t(c)) for c in columns]
    label = ", ".join(columns)
    kept = f"__kept__{'__'.join(columns)}"
    good_rows = pl.col(ROW_NUMBER).filter(pl.col(PASSED))
    if order_by:
        dating = [pl.col(_t(c)).filter(pl.col(PASSED)) for c in order_by]
        kept_row = good_rows.sort_by(
            [*dating, good_rows], descending=[True] * len(dating) + [False], nulls_last=True
        ).first()
    else:
        kept_row = good_rows.min()
    present = pl.all_horizontal(k.is_not_null() for k in keys)
    failed = pl.col(PASSED) & present & (pl.col(ROW_NUMBER) != pl.col(kept))
    shown = pl.concat_str([pl.col(_n(c)) for c in columns], separator=", ")
    value = pl.concat_str([pl.col(c) for c in columns], separator=", ")
    newer = f", which is newer by {' then '.join(order_by)}" if order_by else ""
    reason = _sentence(
        f"{label} ", _quoted(shown), " repeats row ", pl.col(kept).cast(pl.String), newer
    )
    return _Check(label, expectation, failed, value, reason, 2, (kept_row.over(keys).alias(kept),))


def _rep_match_check(column: Column) -> _Check:
    """An owner given by a name or e-mail that names no rep, or several: the row is set
    aside rather than loaded unowned, which would hand the record to someone else."""
    value = pl.col(unmatched_column(column.name))
    reason = _sentence(
        f"{column.name} ",
        _quoted(value),
        " matches no rep (or several) by name, e-mail or rep_id in reps",
    )
    return _Check(column.name, REP_MATCH_EXPECTATION, value.is_not_null(), value, reason)


def _truncation_check() -> _Check:
    """The last line of a file that ends without a line break, when it looks cut."""
    why = pl.col(TRUNCATED)
    return _Check(
        column=ROW_COLUMN,
        expectation=TRUNCATION_EXPECTATION,
        failed=why.is_not_null(),
        value=why,
        reason=why,
    )
