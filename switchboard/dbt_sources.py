"""The dbt project's raw-source definitions, generated from the contracts.

`sources_yaml()` renders dbt_project/models/staging/_sources.yml from data_contracts/, the
reference tables, what ingest keeps between exports (the rep roster, the change set) and
the routing tables; `python -m switchboard.dbt sources` rewrites the committed file and
`python -m switchboard.dbt sources --check` fails when it is stale (installed as a
package, both act on the working copy dbt runs in).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from polars.datatypes import DataTypeClass

from switchboard import resources
from switchboard import tables as written
from switchboard.contracts import CONTRACTS_DIR, Contract, load_contracts
from switchboard.roster import roster_schema

SOURCES_FILE = Path("models") / "staging" / "_sources.yml"
SOURCE_SYSTEMS: dict[str, str] = {
    "accounts": "crm",
    "leads": "crm",
    "opportunities": "crm",
    "reps": "crm",
    "named_accounts": "crm",
    "activities": "crm",
    "hr": "hr",
    "territories": "plan",
    "territory_members": "plan",
}
SOURCE_DESCRIPTIONS: dict[str, str] = {
    "crm": "CRM export (accounts, leads, opportunities, users, named list, activities), "
    "loaded into raw by switchboard.ingest.",
    "hr": "HR system export, loaded into raw by switchboard.ingest.",
    "plan": "Territory plan (territories and their members), loaded into raw by "
    "switchboard.ingest.",
}
ROW_NUMBER_COLUMN = "_row_number"


def _duckdb_type(dtype: pl.DataType | DataTypeClass) -> str:
    if isinstance(dtype, DataTypeClass):  # a bare class such as pl.String
        dtype = dtype()
    if isinstance(dtype, pl.List):
        return f"{_duckdb_type(dtype.inner)}[]"
    if isinstance(dtype, pl.Struct):
        fields = ", ".join(f"{f.name} {_duckdb_type(f.dtype)}" for f in dtype.fields)
        return f"struct({fields})"
    mapping: dict[type[pl.DataType], str] = {
        pl.String: "varchar",
        pl.Boolean: "boolean",
        pl.Int64: "bigint",
        pl.Int32: "integer",
        pl.Float64: "double",
        pl.Datetime: "timestamp",
        pl.Date: "date",
    }
    for polars_type, duckdb_type in mapping.items():
        if isinstance(dtype, polars_type):
            return duckdb_type
    raise TypeError(f"no DuckDB type for {dtype}")


def _contract_table(contract: Contract) -> dict[str, Any]:
    columns: list[dict[str, Any]] = []
    for column in contract.columns:
        entry: dict[str, Any] = {"name": column.name, "data_type": column.duckdb_type}
        description = column.description.strip()
        if description:
            entry["description"] = description
        columns.append(entry)
    columns.append(
        {
            "name": ROW_NUMBER_COLUMN,
            "data_type": "bigint",
            "description": "1-based data row in the snapshot file (quarantine reports cite it).",
        }
    )
    return {
        "name": contract.entity,
        "description": (contract.description.strip() or contract.entity)
        + f" Contract: data_contracts/{contract.entity}.yml.",
        "meta": {"contract_required": contract.required},
        "columns": columns,
    }


def _schema_table(name: str, description: str, schema: dict[str, pl.DataType]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "columns": [
            {"name": column, "data_type": _duckdb_type(dtype)} for column, dtype in schema.items()
        ],
    }


def sources_dict(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """The dbt sources: raw (one source per system, tables and columns from the contracts),
    reference (switchboard.reference) and routing (switchboard.engine.schema)."""
    contracts = load_contracts(contracts_dir)
    unknown = sorted(set(contracts) - set(SOURCE_SYSTEMS))
    if unknown:
        raise ValueError(
            f"contracts without a source system: {', '.join(unknown)}; "
            "add them to switchboard.dbt.SOURCE_SYSTEMS"
        )
    sources: list[dict[str, Any]] = []
    for system, description in SOURCE_DESCRIPTIONS.items():
        tables = [
            _contract_table(contract)
            for entity, contract in contracts.items()
            if SOURCE_SYSTEMS[entity] == system
        ]
        if tables:
            sources.append(
                {"name": system, "description": description, "schema": "raw", "tables": tables}
            )
    sources.append(
        {
            "name": "ingest",
            "description": "What switchboard.ingest keeps between exports, beside the raw "
            "entities it replaces on every load.",
            "schema": "raw",
            "tables": [
                _schema_table(t.table, t.purpose, t.columns() or roster_schema(contracts["reps"]))
                for t in written.dbt_source_tables("ingest")
            ],
        }
    )
    sources.append(
        {
            "name": "reference",
            "description": "Lookup tables written by switchboard.reference from pycountry and "
            "tldextract's bundled Public Suffix List (offline).",
            "schema": "reference",
            "tables": [
                _schema_table(t.table, t.purpose, t.columns() or {})
                for t in written.dbt_source_tables("reference")
            ],
        }
    )
    sources.append(
        {
            "name": "routing",
            "description": "Routing state written by switchboard's publish step; created "
            "empty by switchboard.warehouse.ensure_routing_tables.",
            "schema": "routing",
            "tables": [
                _schema_table(t.table, t.purpose, t.columns() or {})
                for t in written.dbt_source_tables("routing")
            ],
        }
    )
    return {"version": 2, "sources": sources}


class _IndentedDumper(yaml.SafeDumper):
    """Indents block sequences under their key, as dbt's own examples do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def sources_yaml(contracts_dir: Path = CONTRACTS_DIR) -> str:
    """The text of dbt_project/models/staging/_sources.yml."""
    header = (
        "# Generated by switchboard.dbt_sources.sources_yaml() from data_contracts/, "
        "switchboard/reference.py\n"
        "# and switchboard/engine/schema.py. Do not edit: run "
        "`python -m switchboard.dbt sources`.\n"
    )
    body = yaml.dump(
        sources_dict(contracts_dir),
        Dumper=_IndentedDumper,
        sort_keys=False,
        width=100,
        allow_unicode=True,
    )
    return header + body


def sources_path() -> Path:
    """The sources file of the project dbt runs: the committed one in a checkout."""
    return resources.dbt_project() / SOURCES_FILE


def write_sources(path: Path | None = None) -> bool:
    """Rewrite the sources file (default `sources_path()`); returns whether it changed."""
    path = path if path is not None else sources_path()
    text = sources_yaml()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchboard.dbt")
    commands = parser.add_subparsers(dest="command", required=True)
    sources = commands.add_parser("sources", help=f"regenerate {SOURCES_FILE.name}")
    sources.add_argument(
        "--check", action="store_true", help="exit 1 if the committed file is stale"
    )
    args = parser.parse_args(argv)
    if args.command == "sources":
        path = sources_path()
        if args.check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != sources_yaml():
                print(
                    f"{path} is out of date with data_contracts/; "
                    "run `python -m switchboard.dbt sources`",
                    file=sys.stderr,
                )
                return 1
            return 0
        changed = write_sources(path)
        print(f"{path}: {'updated' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
