"""Deliberate bad rows: one contract-breaking row or cell of each kind, put into the rendered
frames (typed equivalents in Parquet), for the ingest to quarantine or clear. The rows are
picked among plain generated rows, never story records (`_Accounts.pick_bad_accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from switchboard.contracts import load_contracts
from switchboard.generate.vocabulary import EMAIL_DOMAIN
from switchboard.generate.write import _as_text, _conform


@dataclass
class _BadAccounts:
    empty_id: int
    not_numeric: int
    duplicate: int  # this row becomes a copy of `duplicate_of` under another name
    duplicate_of: int
    bad_date: int
    bad_tier: int


def _set_cell(frame: pl.DataFrame, row: int, column: str, value: object) -> pl.DataFrame:
    dtype = frame.schema[column]
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value, dtype=dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _break_accounts(frame: pl.DataFrame, bad: _BadAccounts, as_text: bool) -> pl.DataFrame:
    """Contract-breaking rows, one of each kind; in Parquet the typed equivalents."""
    offset = 3  # story rows come first
    dup_source = frame.slice(offset + bad.duplicate_of, 1)
    base_name = dup_source["name"].str.replace(r"\s+\S+$", "")
    duplicate = dup_source.with_columns(name=base_name)
    at = offset + bad.duplicate
    frame = pl.concat([frame.slice(0, at), duplicate, frame.slice(at + 1)])
    frame = _set_cell(frame, offset + bad.empty_id, "account_id", None)
    frame = _set_cell(frame, offset + bad.not_numeric, "employees", "lots" if as_text else -40)
    frame = _set_cell(frame, offset + bad.bad_date, "created_at", "not-a-date" if as_text else None)
    return _set_cell(frame, offset + bad.bad_tier, "tier", "7" if as_text else 7)


def _break_others(
    entity: str, frame: pl.DataFrame, bad_lead: int, as_text: bool, as_of: datetime
) -> pl.DataFrame:
    if entity == "leads":
        return _set_cell(frame, 1 + bad_lead, "email", "not-an-email")
    if entity == "hr":
        retired = pl.DataFrame(
            {
                "email": ["sam.former@" + EMAIL_DOMAIN],
                "status": ["retired"],
                "status_start": [as_of.date() - timedelta(days=365)],
                "status_end": [None],
                "role": ["AE"],
                "updated_at": [as_of - timedelta(days=300)],
            }
        )
        retired = _conform(retired, "hr")
        if as_text:
            retired = _as_text(retired, load_contracts()["hr"])
        return pl.concat([frame, retired])
    return frame
