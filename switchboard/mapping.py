"""Header mappings: a CRM export's own headers and value formats, mapped to the contracts.

The contracts' aliases recognise Salesforce API names. Exports made elsewhere (a
Salesforce report, a HubSpot export) name their columns for people (`Account Name`,
`Create Date`) and write values for a locale (`12/2/2024`, `1.234,5`, `Y`/`N`, owners as
names). A mapping says, per entity and contract column, which header(s) hold the column
and how to read its values, without editing the shipped contracts:

```yaml
accounts:
  account_id: Record ID                       # a header
  created_at: {header: Create Date, format: ["%m/%d/%Y %H:%M", "%m/%d/%Y"]}
  annual_revenue: {header: Annual Revenue, decimal: ","}
  owner_id: {header: [Company owner, Owner], match_rep: true}
```

Presets ship in ``switchboard/mappings/`` (``hubspot``, ``salesforce-report``); a mapping
is chosen in routing.yml (``mapping: hubspot`` or a path relative to routing.yml) or per
command with ``--mapping``, which replaces routing.yml's. Values
are rewritten to the text the contract parsers already read (ISO dates, '.' decimals,
true/false), so every check and quarantine reason stays the contract's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from switchboard import resources
from switchboard.contracts import Column, Contract, load_contracts

PRESETS_DIR = resources.mapping_presets_dir()
DATE_TYPES = ("date", "timestamp")
NUMERIC_TYPES = ("integer", "number")
# What an owner value that names no rep is recorded as in raw.quarantine.
REP_MATCH_EXPECTATION = "expect_owner_to_match_a_rep"


class MappingError(ValueError):
    """A mapping file that cannot be read or names something the contracts do not hold;
    the message is one line naming the file and the key."""


class ColumnMapping(BaseModel):
    """How one contract column is found and read in an export."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Headers holding the column, first present wins (case and spaces ignored).
    header: tuple[str, ...]
    # strftime formats for date and timestamp columns, tried in order; ISO 8601 still reads.
    format: tuple[str, ...] = ()
    decimal: str = "."
    thousands: str = ""
    # Extra spellings of true and false for boolean columns (true/false/yes/no/1/0 read anyway).
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    # The value is a rep's name, e-mail or rep_id, looked up in reps (case ignored).
    match_rep: bool = False

    @field_validator("header", "format", "true_values", "false_values", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError(f"{value} is a YAML boolean: quote it ('Yes', 'No')")
        if isinstance(value, str | int | float):
            return (str(value),)
        if isinstance(value, list | tuple):
            if any(isinstance(v, bool) for v in value):
                raise ValueError("a YAML boolean in the list: quote yes/no/on/off ('Yes')")
            return tuple(str(v) for v in value)
        return value

    @field_validator("header")
    @classmethod
    def _some_header(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or not all(h.strip() for h in value):
            raise ValueError("needs at least one non-empty header")
        return value


class HeaderMapping(BaseModel):
    """A whole mapping: per entity, contract column -> ColumnMapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str
    digest: str
    entities: dict[str, dict[str, ColumnMapping]]

    def columns(self, entity: str) -> dict[str, ColumnMapping]:
        return self.entities.get(entity, {})

    def rep_matched(self, entity: str) -> list[str]:
        """The entity's columns whose values name reps rather than hold rep_ids."""
        return [c for c, m in self.columns(entity).items() if m.match_rep]


def presets() -> list[str]:
    """The shipped mapping names (files in switchboard/mappings/)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yml"))


def load_mapping(
    spec: str | Path, base: Path | None = None, contracts: Mapping[str, Contract] | None = None
) -> HeaderMapping:
    """A preset by name, or a mapping file (relative to ``base``), checked against the
    contracts so that a typo stops the run before anything starts."""
    name = str(spec)
    if name in presets():
        path = PRESETS_DIR / f"{name}.yml"
    else:
        path = Path(name)
        if not path.is_absolute() and base is not None:
            path = base / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        known = ", ".join(presets())
        raise MappingError(f"cannot read mapping {path}: {reason} (presets: {known})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "not valid YAML"
        raise MappingError(f"mapping {path}: not valid YAML: {first}") from None
    return parse_mapping(data, str(path), contracts)


def parse_mapping(
    data: object, source: str, contracts: Mapping[str, Contract] | None = None
) -> HeaderMapping:
    """Validate a mapping's data: known entities and columns, formats that fit each
    column's type. Errors name ``source`` and the key (``accounts.created_at``)."""
    contracts = load_contracts() if contracts is None else contracts
    if not isinstance(data, dict):
        raise MappingError(
            f"mapping {source}: expected entities at the top level (such as `accounts:`)"
        )
    entities: dict[str, dict[str, ColumnMapping]] = {}
    for entity, columns in data.items():
        if entity not in contracts:
            raise MappingError(
                f"mapping {source}: `{entity}` is not an entity "
                f"(the entities are {', '.join(contracts)})"
            )
        if not isinstance(columns, dict):
            raise MappingError(f"mapping {source}: `{entity}` must map contract columns to headers")
        contract = contracts[entity]
        entities[entity] = {
            column: _column(source, contract, str(column), spec) for column, spec in columns.items()
        }
    digest = hashlib.sha256(
        repr(
            sorted((e, c, m.model_dump_json()) for e, cs in entities.items() for c, m in cs.items())
        ).encode()
    ).hexdigest()[:12]
    return HeaderMapping(source=source, digest=digest, entities=entities)


def _column(source: str, contract: Contract, name: str, spec: Any) -> ColumnMapping:
    key = f"{contract.entity}.{name}"
    if name not in contract.column_names:
        raise MappingError(
            f"mapping {source}: `{key}`: {contract.entity} has no column "
            f"{name} (its columns are {', '.join(contract.column_names)})"
        )
    try:
        mapped = ColumnMapping.model_validate(spec if isinstance(spec, dict) else {"header": spec})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise MappingError(
            f"mapping {source}: `{key}{'.' + where if where else ''}`: {message}"
        ) from None
    wrong = _misfit(contract.column(name), mapped)
    if wrong:
        raise MappingError(f"mapping {source}: `{key}`: {wrong}")
    return mapped


def _misfit(column: Column, mapped: ColumnMapping) -> str | None:
    """Why a value option does not fit the column's type, or None."""
    kind = f"{column.name} is {column.type}"
    problems = (
        (
            bool(mapped.format) and column.type not in DATE_TYPES,
            f"format applies to date and timestamp columns; {kind}",
        ),
        (
            (mapped.decimal != "." or bool(mapped.thousands)) and column.type not in NUMERIC_TYPES,
            f"decimal/thousands apply to number columns; {kind}",
        ),
        (mapped.decimal not in (".", ","), "decimal must be '.' or ','"),
        (mapped.thousands == mapped.decimal, "thousands and decimal must differ"),
        (
            bool(mapped.true_values or mapped.false_values) and column.type != "boolean",
            f"true_values/false_values apply to boolean columns; {kind}",
        ),
        (
            mapped.match_rep and column.type != "string",
            f"match_rep applies to string columns; {kind}",
        ),
    )
    return next((message for wrong, message in problems if wrong), None)


# --------------------------------------------------------------------------- values


def canonical(text: pl.Expr, column: Column, mapped: ColumnMapping) -> pl.Expr:
    """The export's text rewritten to what the contract parser reads; text no format
    reads stays as it was, so the contract's type check quarantines it with its value."""
    stripped = text.str.strip_chars()
    if mapped.format and column.type in DATE_TYPES:
        return pl.coalesce(*[_date_text(stripped, f, column.type) for f in mapped.format], text)
    if column.type in NUMERIC_TYPES and (mapped.decimal != "." or mapped.thousands):
        number = stripped.str.replace_all(" ", "", literal=True).str.replace_all(
            "\u00a0", "", literal=True
        )
        if mapped.thousands:
            number = number.str.replace_all(mapped.thousands, "", literal=True)
        if mapped.decimal == ",":
            if not mapped.thousands:  # '1.234,5': the dots group thousands
                number = number.str.replace_all(".", "", literal=True)
            number = number.str.replace_all(",", ".", literal=True)
        return number
    if column.type == "boolean" and (mapped.true_values or mapped.false_values):
        spellings = {v.strip().lower(): "true" for v in mapped.true_values}
        spellings |= {v.strip().lower(): "false" for v in mapped.false_values}
        return pl.coalesce(
            stripped.str.to_lowercase().replace_strict(
                spellings, default=None, return_dtype=pl.String
            ),
            text,
        )
    return text


def _date_text(text: pl.Expr, fmt: str, column_type: str) -> pl.Expr:
    """One strftime format → ISO text (null where it does not read)."""
    if column_type == "date":
        return text.str.to_date(fmt, strict=False).dt.strftime("%Y-%m-%d")
    return text.str.to_datetime(fmt, strict=False, time_unit="us").dt.strftime(
        "%Y-%m-%dT%H:%M:%S%.f"
    )


def unmatched_column(column: str) -> str:
    """The helper column holding an owner value that names no rep (see match_reps)."""
    return f"__unmatched_rep__{column}"


def rep_keys(reps: pl.LazyFrame) -> pl.LazyFrame:
    """Lower-cased rep_id, name and e-mail -> rep_id, for keys naming exactly one rep: a
    name two reps share cannot pick an owner."""
    key = pl.col("key").str.strip_chars().str.to_lowercase()
    keys = (
        pl.concat(
            [
                reps.select(key=pl.col(c).cast(pl.String), rep_id=pl.col("rep_id").cast(pl.String))
                for c in ("rep_id", "name", "email")
            ]
        )
        .with_columns(key)
        .drop_nulls()
        .filter(pl.col("key") != "")
        .unique()
    )
    return keys.group_by("key").agg(pl.col("rep_id").first(), reps=pl.col("rep_id").n_unique())


def match_reps(frame: pl.DataFrame, columns: list[str], reps: pl.LazyFrame) -> pl.DataFrame:
    """Replace rep names or e-mails in ``columns`` by rep_ids with one join per column;
    a value naming no rep (or several) empties the cell and is kept in
    :func:`unmatched_column`, which ingest quarantines with the value in its reason."""
    keys = rep_keys(reps)
    lazy = frame.lazy()
    for column in columns:
        if column not in frame.columns:
            continue
        joined = f"__rep_id__{column}"
        text = pl.col(column).str.strip_chars()
        lazy = (
            lazy.with_columns(text.str.to_lowercase().alias("__rep_key__"))
            .join(
                keys.select(
                    pl.col("key").alias("__rep_key__"),
                    pl.when(pl.col("reps") == 1).then(pl.col("rep_id")).alias(joined),
                ),
                on="__rep_key__",
                how="left",
                maintain_order="left",
            )
            .with_columns(
                pl.when((text != "") & pl.col(joined).is_null())
                .then(pl.col(column))
                .alias(unmatched_column(column)),
                pl.when(text != "").then(pl.col(joined)).alias(column),
            )
            .drop("__rep_key__", joined)
        )
    return lazy.collect()
