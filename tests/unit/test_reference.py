"""reference.* lookup tables for dbt staging: content, versioning, and no network."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from switchboard import reference


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    reference.load_reference_tables(connection)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return con.execute(sql, list(params)).fetchall()


def country(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    found = rows(con, "select country_code from reference.countries where lookup_key = ?", key)
    return found[0][0] if found else None


def state(con: duckdb.DuckDBPyConnection, country_code: str, key: str) -> str | None:
    found = rows(
        con,
        "select state_code from reference.subdivisions where country_code = ? and lookup_key = ?",
        country_code,
        key,
    )
    return found[0][0] if found else None


def test_countries_by_name_code_and_alias(con: duckdb.DuckDBPyConnection) -> None:
    spellings = {
        "germany": "DE",
        "de": "DE",
        "deu": "DE",
        "united states": "US",
        "united states of america": "US",
        "usa": "US",
        "uk": "GB",
        "united kingdom": "GB",
        "côte d'ivoire": "CI",
        "cote d'ivoire": "CI",
        "south korea": "KR",
        "ca": "CA",
        "narnia": None,
    }
    assert {key: country(con, key) for key in spellings} == spellings
    duplicates = rows(
        con, "select lookup_key from reference.countries group by 1 having count(*) > 1"
    )
    assert duplicates == []


def test_subdivisions_by_name_short_and_full_code(con: duckdb.DuckDBPyConnection) -> None:
    assert state(con, "US", "california") == "CA"
    assert state(con, "US", "ca") == "CA"
    assert state(con, "US", "us-ca") == "CA"
    assert state(con, "CA", "quebec") == "QC"
    assert state(con, "FR", "île-de-france") == "IDF"
    assert state(con, "FR", "ile-de-france") == "IDF"  # every spelling also without accents
    assert state(con, "ES", "islas baleares") == "IB"  # the bracketed part of the ISO name
    assert state(con, "GB", "england") == "ENG"
    assert state(con, "DE", "bavaria") is None  # ISO names are local: Bayern
    duplicates = rows(
        con,
        "select country_code, lookup_key from reference.subdivisions "
        "group by all having count(*) > 1",
    )
    assert duplicates == []


def test_public_suffix_rules(con: duckdb.DuckDBPyConnection) -> None:
    found = dict(
        (suffix, (kind, is_private))
        for suffix, kind, is_private in rows(
            con,
            "select suffix, kind, is_private from reference.public_suffixes "
            "where suffix in ('com', 'co.uk', '*.ck', 'www.ck', 'github.io', 'xn--55qx5d.cn')",
        )
    )
    assert found == {
        "com": ("normal", False),
        "co.uk": ("normal", False),
        "*.ck": ("wildcard", False),
        "www.ck": ("exception", False),
        "github.io": ("normal", True),
        "xn--55qx5d.cn": ("normal", False),  # 公司.cn in its ASCII form
    }


def test_loading_again_is_a_no_op(con: duckdb.DuckDBPyConnection) -> None:
    assert reference.load_reference_tables(con) == []
    versions = dict(rows(con, "select table_name, version from reference.versions"))
    assert versions == reference.table_versions()


def test_a_version_change_refreshes_only_that_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update reference.versions set version = 'pycountry=0.0' "
        "where table_name = 'reference.countries'"
    )
    con.execute("delete from reference.countries")
    assert reference.load_reference_tables(con) == ["reference.countries"]
    assert country(con, "germany") == "DE"
    assert reference.load_reference_tables(con) == []


def test_a_missing_table_is_rebuilt(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table reference.public_suffixes")
    assert reference.load_reference_tables(con) == ["reference.public_suffixes"]
    assert rows(con, "select count(*) from reference.public_suffixes")[0][0] > 5000


def test_force_rebuilds_everything(con: duckdb.DuckDBPyConnection) -> None:
    assert reference.load_reference_tables(con, force=True) == list(reference.table_versions())


def test_the_suffix_list_is_read_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("reference data must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    suffixes = reference.public_suffixes_frame()
    assert "co.uk" in suffixes["suffix"].to_list()
