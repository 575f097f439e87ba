"""The files: frames conformed to the data contracts (their columns, order and types),
rendered as CSV text, and written as CSV or Parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from switchboard.contracts import Contract, load_contracts

FileFormat = Literal["csv", "parquet"]

ENTITIES = (
    "accounts",
    "leads",
    "opportunities",
    "reps",
    "hr",
    "territories",
    "territory_members",
    "named_accounts",
    "activities",
)


def _conform(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """Exactly the contract's columns, in contract order and contract types; optional
    columns the generator does not fill are empty."""
    schema = load_contracts()[entity].polars_schema
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in schema.items()
        ]
    )


def _as_text(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """The CSV rendering: ISO timestamps without offset, `;`-joined lists, true/false."""
    exprs = []
    for col in contract.columns:
        c = pl.col(col.name)
        if col.type == "timestamp":
            exprs.append(c.dt.strftime("%Y-%m-%dT%H:%M:%S"))
        elif col.type == "date":
            exprs.append(c.dt.strftime("%Y-%m-%d"))
        elif col.type == "list":
            exprs.append(pl.when(c.list.len() > 0).then(c.list.join(";")))
        elif col.type == "boolean":
            exprs.append(pl.when(c).then(pl.lit("true")).when(~c).then(pl.lit("false")))
        else:
            exprs.append(c.cast(pl.String))
    return frame.select(
        [expr.alias(col.name) for expr, col in zip(exprs, contract.columns, strict=True)]
    )


def _write(frame: pl.DataFrame, path: Path, file_format: FileFormat) -> None:
    if file_format == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, compression="zstd", statistics=True)
