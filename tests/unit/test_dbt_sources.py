"""The committed dbt sources file agrees with data_contracts/ (and is what the generator writes)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml

from switchboard import dbt, dbt_sources, warehouse
from switchboard.contracts import CONTRACTS_DIR, load_contracts
from switchboard.engine.schema import DECISIONS, RECORDED_DECISIONS, ROUTING_TABLES


def committed_sources() -> dict[str, Any]:
    return yaml.safe_load(dbt.SOURCES_PATH.read_text(encoding="utf-8"))


def raw_tables(sources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Entity -> table spec, over every source of a system the contracts come from."""
    tables: dict[str, dict[str, Any]] = {}
    for source in sources["sources"]:
        if source["name"] in set(dbt_sources.SOURCE_SYSTEMS.values()):
            for table in source["tables"]:
                assert table["name"] not in tables, f"raw.{table['name']} declared twice"
                tables[table["name"]] = table
    return tables


def test_every_contract_has_a_raw_source_with_its_columns() -> None:
    tables = raw_tables(committed_sources())
    contracts = load_contracts()
    assert set(tables) == set(contracts)
    for entity, contract in contracts.items():
        columns = [column["name"] for column in tables[entity]["columns"]]
        expected = [*contract.column_names, dbt_sources.ROW_NUMBER_COLUMN]
        assert columns == expected, (
            f"{dbt.SOURCES_PATH.name} disagrees with data_contracts/{entity}.yml; "
            "run `python -m switchboard.dbt sources`"
        )


def test_raw_source_types_are_the_contract_types() -> None:
    tables = raw_tables(committed_sources())
    for entity, contract in load_contracts().items():
        types = {column["name"]: column["data_type"] for column in tables[entity]["columns"]}
        for column in contract.columns:
            assert types[column.name] == column.duckdb_type, f"{entity}.{column.name}"


def test_staging_models_read_their_entity_from_its_source_system() -> None:
    """Every raw table is read by a staging model of its system, except the change set,
    which says which records the per-record models update (macros/changes.sql)."""
    sources = committed_sources()
    system_of = {
        table["name"]: source["name"]
        for source in sources["sources"]
        if source["schema"] == "raw"
        for table in source["tables"]
        if (source["name"], table["name"]) != ("ingest", "changes")
    }
    macros = (dbt.PROJECT_DIR / "macros" / "changes.sql").read_text(encoding="utf-8")
    assert "source('ingest', 'changes')" in macros
    staging = dbt.PROJECT_DIR / "models" / "staging"
    for entity, system in system_of.items():
        calls = [
            path.name
            for path in staging.glob(f"stg_{system}__*.sql")
            if f"source('{system}', '{entity}')" in path.read_text(encoding="utf-8")
        ]
        assert calls, f"no staging model reads source('{system}', '{entity}')"


def test_committed_file_is_the_generated_file() -> None:
    assert dbt.SOURCES_PATH.read_text(encoding="utf-8") == dbt_sources.sources_yaml(), (
        f"{dbt.SOURCES_PATH} is stale; run `python -m switchboard.dbt sources`"
    )
    assert dbt_sources.main(["sources", "--check"]) == 0


def test_a_contract_change_is_detected(tmp_path: Path) -> None:
    contracts_dir = tmp_path / "data_contracts"
    shutil.copytree(CONTRACTS_DIR, contracts_dir)
    path = contracts_dir / "accounts.yml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["columns"].append({"name": "region", "type": "string"})
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")

    changed = raw_tables(dbt_sources.sources_dict(contracts_dir))["accounts"]
    assert [c["name"] for c in changed["columns"]][-2:] == ["region", dbt_sources.ROW_NUMBER_COLUMN]
    assert dbt_sources.sources_yaml(contracts_dir) != dbt.SOURCES_PATH.read_text(encoding="utf-8")


def test_an_entity_without_a_source_system_is_refused(tmp_path: Path) -> None:
    contracts_dir = tmp_path / "data_contracts"
    shutil.copytree(CONTRACTS_DIR, contracts_dir)
    (contracts_dir / "quotas.yml").write_text(
        "entity: quotas\ncolumns:\n  - {name: rep_id, type: string}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="quotas"):
        dbt_sources.sources_dict(contracts_dir)


def test_reference_and_routing_sources_are_declared() -> None:
    sources = {source["name"]: source for source in committed_sources()["sources"]}
    reference = {t["name"]: t for t in sources["reference"]["tables"]}
    assert set(reference) == {"countries", "subdivisions", "public_suffixes"}
    assert [c["name"] for c in reference["subdivisions"]["columns"]][:3] == [
        "country_code",
        "lookup_key",
        "state_code",
    ]
    routing = {t["name"]: t for t in sources["routing"]["tables"]}
    assert {"decisions", "conflicts", "rep_state", "runs"} <= set(routing)
    decided_at = next(c for c in routing["decisions"]["columns"] if c["name"] == "decided_at")
    assert decided_at["data_type"] == "timestamp"
    candidates = next(c for c in routing["conflicts"]["columns"] if c["name"] == "candidates")
    assert candidates["data_type"] == (
        "struct(rule varchar, territory_id varchar, owner_id varchar, queue varchar)[]"
    )


def test_every_routing_source_exists_before_the_first_build() -> None:
    """dbt reads routing.* from the first build on: warehouse.ensure_routing_tables must
    create every table the routing source declares, with the declared columns."""
    sources = {source["name"]: source for source in committed_sources()["sources"]}
    declared = {
        f"routing.{t['name']}": [c["name"] for c in t["columns"]]
        for t in sources["routing"]["tables"]
    }
    con = duckdb.connect()
    try:
        con.execute("create schema routing")
        warehouse.ensure_routing_tables(con)
        created = {
            f"routing.{table}": [
                column
                for (column,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'routing' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            for (table,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'routing'"
            ).fetchall()
        }
    finally:
        con.close()
    # Where round-robin rotations stand is read back by the engine only.
    engine_only = {"routing.round_robin"}
    assert {
        name: columns for name, columns in created.items() if name not in engine_only
    } == declared
    # Besides the engine's tables, the routing tables dbt reads that others write.
    assert set(declared) | engine_only == set(ROUTING_TABLES) | {"routing.builds"}


def test_an_older_warehouse_gains_the_columns_declared_since() -> None:
    """routing.decisions of a warehouse made before input_hash existed gains the column
    (null in its rows) instead of failing the next run's insert."""
    con = duckdb.connect()
    try:
        con.execute("create schema routing")
        warehouse.write_table(
            con,
            "routing.decisions",
            pl.DataFrame([{"run_id": "old", "record_id": "A1"}], schema=DECISIONS),
        )
        warehouse.ensure_routing_tables(con)
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'decisions' order by ordinal_position"
        ).fetchall()
        assert [name for name, _ in columns] == list(RECORDED_DECISIONS)
        assert columns[-1] == ("input_hash", "VARCHAR")
        assert con.execute("select run_id, input_hash from routing.decisions").fetchall() == [
            ("old", None)
        ]
        assert warehouse.add_missing_columns(con, "routing.decisions", RECORDED_DECISIONS) == []
    finally:
        con.close()
