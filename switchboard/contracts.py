"""data_contracts/*.yml: the one place each entity's columns are declared.

Ingest casting, quarantine checks, the Great Expectations suites and the dbt source
definitions are all derived from these models; nothing else lists columns.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from pathlib import Path
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from switchboard import resources

CONTRACTS_DIR = resources.contracts_dir()

ColumnType = Literal["string", "integer", "number", "boolean", "timestamp", "date", "list"]
# A named set of allowed values too long to list in a contract.
ColumnFormat = Literal["timezone"]
# What a bad value in an optional column does: clear that cell and keep the row (the
# default), or set the row aside like a bad required value (for a rep: the rep is held).
OnInvalid = Literal["clear_cell", "quarantine_row"]

# Names in the tz database that are not zones a person lives in, or that Polars lacks.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
    "timestamp": pl.Datetime("us"),
    "date": pl.Date(),
    "list": pl.List(pl.String()),
}
DUCKDB_TYPES: dict[str, str] = {
    "string": "varchar",
    "integer": "bigint",
    "number": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "list": "varchar[]",
}


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entity: str
    column: str
    # quarantine: the row is unusable without its parent; warn: kept, reported downstream.
    on_missing: Literal["quarantine", "warn"] = "warn"


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    type: ColumnType
    required: bool = False
    unique: bool = False
    aliases: tuple[str, ...] = ()
    allowed_values: tuple[str | int | float, ...] | None = None
    pattern: str | None = None
    # What a value matching ``pattern`` looks like, for the quarantine reason.
    pattern_hint: str | None = None
    min: float | None = None
    max: float | None = None
    references: Reference | None = None
    format: ColumnFormat | None = None
    on_invalid: OnInvalid = "clear_cell"
    description: str = ""

    @property
    def allowed_set(self) -> tuple[str | int | float, ...] | None:
        """The allowed values: ``allowed_values``, or those of the column's ``format``."""
        if self.format == "timezone":
            return timezone_names()
        return self.allowed_values

    @property
    def polars_type(self) -> pl.DataType:
        return POLARS_TYPES[self.type]

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entity: str
    description: str = ""
    required: bool = False
    primary_key: str | tuple[str, ...] | None = None
    # Columns that date a row (newest first, empty last): when a unique key repeats, the
    # newest row wins and the others are quarantined. Without it the first row wins.
    order_by: tuple[str, ...] = ()
    # Optional columns of which a row needs at least one (an activity is on an account, a
    # lead or both): a row with all of them empty is set aside.
    require_one_of: tuple[str, ...] = ()
    columns: tuple[Column, ...]

    @field_validator("columns")
    @classmethod
    def _unique_names(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names in contract: {names}")
        return columns

    @model_validator(mode="after")
    def _order_by_columns_exist(self) -> Contract:
        names = {c.name for c in self.columns}
        unknown = [c for c in self.order_by if c not in names]
        if unknown:
            raise ValueError(f"order_by names unknown columns: {unknown}")
        return self

    @model_validator(mode="after")
    def _one_of_optional_columns(self) -> Contract:
        if not self.require_one_of:
            return self
        names = {c.name: c for c in self.columns}
        unknown = [c for c in self.require_one_of if c not in names]
        if unknown:
            raise ValueError(f"require_one_of names unknown columns: {unknown}")
        if len(set(self.require_one_of)) < 2:
            raise ValueError("require_one_of needs two or more columns")
        required = [c for c in self.require_one_of if names[c].required]
        if required:
            raise ValueError(f"require_one_of lists required columns: {required}")
        return self

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def key_columns(self) -> list[str]:
        if self.primary_key is None:
            return []
        return [self.primary_key] if isinstance(self.primary_key, str) else list(self.primary_key)

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.polars_type for c in self.columns}

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.entity} has no column {name!r}")

    def alias_map(self) -> dict[str, str]:
        """header_key(source header) -> contract column (the column's own name included)."""
        mapping: dict[str, str] = {}
        for c in self.columns:
            for alias in (c.name, *c.aliases):
                mapping[header_key(alias)] = c.name
        return mapping


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA time zone name (the tz database Python ships with tzdata), sorted."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_ZONES))


def header_key(header: str) -> str:
    """How a file's header is compared with contract names, aliases and mappings: case,
    surrounding spaces and a byte-order mark ignored."""
    return header.strip().strip("\ufeff").strip().lower()


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """Every contract in the folder, by entity name, in a stable order."""
    contracts: dict[str, Contract] = {}
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        contract = Contract.model_validate(data)
        if contract.entity != path.stem:
            raise ValueError(f"{path}: entity {contract.entity!r} must match the file name")
        contracts[contract.entity] = contract
    return contracts


def get_contract(entity: str) -> Contract:
    return load_contracts()[entity]
