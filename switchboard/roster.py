"""The rep roster: what Switchboard knows about each rep across exports.

A rep's book moves only on evidence that the rep has gone: HR says terminated, the CRM
says deactivated, the role no longer carries accounts, or the rep has been missing from
the export for ``evidence.missing_exports`` consecutive exports. A broken cell or a row
missing once is not evidence: such a rep is *held* (keeps the book, receives no new
records) and a ``rep_data_problem`` alert names the rep, the column and the value.

Telling "missing" from "broken" and counting consecutive exports needs memory between
runs; raw.reps is replaced on every load, so ingest keeps ``raw.rep_roster``: one row per
rep ever loaded, with the last good reps row, the problem of this export (if any) and the
two absence counters. Pure Polars; ingest writes the result in the load's transaction and
dbt (``stg_ingest__rep_roster``) reads it.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from switchboard.contracts import Contract

# The problem columns once for the reps row and once for the HR row.
PROBLEM = ("problem_column", "problem_value", "problem_reason")
MISSING_FROM_REPS = "missing from the reps export"


def roster_schema(reps: Contract) -> dict[str, pl.DataType]:
    """raw.rep_roster: the reps contract's columns (the last good row) plus the state."""
    return {
        **reps.polars_schema,
        "reps_problem_column": pl.String(),
        "reps_problem_value": pl.String(),
        "reps_problem_reason": pl.String(),
        "missing_reps_exports": pl.Int64(),
        "hr_problem_column": pl.String(),
        "hr_problem_value": pl.String(),
        "hr_problem_reason": pl.String(),
        "missing_hr_exports": pl.Int64(),
        # The HR status last seen for the rep's e-mail: a terminated employee whom HR
        # later drops from its export stays terminated, rather than becoming "missing".
        "last_hr_status": pl.String(),
        "last_hr_status_start": pl.Date(),
        "updated_at": pl.Datetime("us"),
    }


def _email_key(column: str = "email") -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase()


def _problems(prefix: str) -> list[pl.Expr]:
    return [pl.col(name).alias(f"{prefix}_{name}") for name in PROBLEM]


def update_roster(
    previous: pl.DataFrame,
    *,
    reps_contract: Contract,
    reps: pl.DataFrame,
    reps_rejected: pl.DataFrame,
    hr: pl.DataFrame,
    hr_rejected: pl.DataFrame,
    new_reps_export: bool,
    new_hr_export: bool,
    now: datetime,
) -> pl.DataFrame:
    """The roster after loading one export.

    ``reps`` / ``hr``: the loaded rows; ``*_rejected``: the rows ingest set aside, with
    their first problem (see switchboard.ingest.validate.Validated). The absence counters grow only
    when the file is a new export (``new_*_export``): re-reading the same file is not more
    evidence. A rep whose reps row is broken or missing keeps the last good row and its HR
    counter: without a usable row there is no e-mail to look for in HR.
    """
    schema = roster_schema(reps_contract)
    columns = reps_contract.column_names
    if not previous.columns:  # the first load
        previous = pl.DataFrame(schema=schema)
    # A roster written before the contract gained a column (an upgrade) lacks it.
    added = [
        pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
        if name not in previous.columns
    ]
    prev = previous.lazy().with_columns(added).cast(schema)  # type: ignore[arg-type]
    null_problem = [pl.lit(None, pl.String).alias(f"reps_{name}") for name in PROBLEM]

    present = (
        reps.lazy()
        .select(columns)
        .with_columns(*null_problem, missing_reps_exports=pl.lit(0, pl.Int64))
    )
    broken_rows = (
        reps_rejected.lazy()
        .filter(pl.col("rep_id").is_not_null())
        .unique("rep_id", keep="first", maintain_order=True)
        .join(present.select("rep_id"), on="rep_id", how="anti")
    )
    broken_state = broken_rows.select(
        "rep_id", *_problems("reps"), missing_reps_exports=pl.lit(0, pl.Int64)
    )
    # A broken row keeps the last good row Switchboard saw; a rep never seen whole keeps
    # what could be read of the broken row.
    broken = pl.concat(
        [
            prev.select(columns).join(broken_state, on="rep_id", how="inner"),
            broken_rows.join(prev.select("rep_id"), on="rep_id", how="anti")
            .select(columns)
            .join(broken_state, on="rep_id", how="inner"),
        ],
        how="diagonal_relaxed",
    )
    seen = pl.concat([present.select("rep_id"), broken_rows.select("rep_id")])
    missing = prev.join(seen, on="rep_id", how="anti").select(
        *columns,
        reps_problem_column=pl.lit("rep_id"),
        reps_problem_value=pl.col("rep_id"),
        reps_problem_reason=pl.lit(MISSING_FROM_REPS),
        missing_reps_exports=pl.col("missing_reps_exports").fill_null(0) + int(new_reps_export),
    )
    roster = pl.concat([present, broken, missing], how="diagonal_relaxed")

    in_hr = (
        hr.lazy()
        .select(
            _email_key().alias("_email"),
            _in_hr=pl.lit(True),
            _status=pl.col("status").str.strip_chars().str.to_lowercase(),
            _status_start=pl.col("status_start"),
        )
        .unique("_email", keep="first")
    )
    hr_broken = (
        hr_rejected.lazy()
        .filter(pl.col("email").is_not_null())
        .with_columns(_email=_email_key())
        .join(in_hr, on="_email", how="anti")
        .unique("_email", keep="first", maintain_order=True)
    )
    hr_state = hr_broken.select("_email", *_problems("hr"))
    counted = pl.col("reps_problem_reason").is_null()  # the reps row is present and whole
    before = pl.col("_previous_missing_hr").fill_null(0)
    return (
        roster.with_columns(_email=_email_key())
        .join(in_hr, on="_email", how="left")
        .join(hr_state, on="_email", how="left")
        .join(
            prev.select(
                "rep_id",
                _previous_missing_hr="missing_hr_exports",
                _previous_status="last_hr_status",
                _previous_status_start="last_hr_status_start",
            ),
            on="rep_id",
            how="left",
        )
        .with_columns(
            last_hr_status=pl.when(pl.col("_in_hr").fill_null(False))
            .then("_status")
            .otherwise("_previous_status"),
            last_hr_status_start=pl.when(pl.col("_in_hr").fill_null(False))
            .then("_status_start")
            .otherwise("_previous_status_start"),
            missing_hr_exports=pl.when(pl.col("_in_hr").fill_null(False))
            .then(0)
            .when(counted & pl.col("hr_problem_reason").is_null())
            .then(before + int(new_hr_export))
            .otherwise(before),
            updated_at=pl.lit(now, pl.Datetime("us")),
        )
        .select(list(schema))
        .sort("rep_id")
        .collect()
        .cast(schema)  # type: ignore[arg-type]
    )
