"""Reference lookups for staging: ISO countries and subdivisions, and the public-suffix list.

`load_reference_tables(con)` writes three tables into the warehouse's `reference` schema:

- `reference.countries` (lookup_key, country_code, alpha3, country_name, key_source): one row
  per accepted spelling of a country (alpha-2, alpha-3, name, official and common name and a
  few everyday aliases such as "UK"), lower-cased; accented spellings also appear without
  their accents.
- `reference.subdivisions` (country_code, lookup_key, state_code, subdivision_code,
  subdivision_name): per country, the lower-cased name, short code (`ca`) and full code
  (`us-ca`) of every ISO 3166-2 subdivision, mapped to the short code (`CA`).
- `reference.public_suffixes` (suffix, kind, is_private): the rules of the Public Suffix
  List bundled with tldextract (`kind` is `normal`, `wildcard` for `*.ck`-style rules, stored
  with the `*.` prefix, or `exception` for `!www.ck`-style rules, stored without the `!`).
  Internationalised suffixes appear both in Unicode and in their `xn--` form.

The data comes from the installed pycountry and tldextract packages and never from the
network. The tables are versioned by those package versions (in `reference.versions`), so
loading is a no-op while they are current and a package upgrade refreshes them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import duckdb
import polars as pl
import pycountry

# Only the parser is used: it works on the text it is handed and never fetches anything.
from tldextract.suffix_list import extract_tlds_from_suffix_list

from switchboard import tables, warehouse

# Bump when the shape or the derivation of a reference table changes.
SCHEMA_VERSION = "1"
VERSIONS_TABLE = tables.REFERENCE_VERSIONS

COUNTRY_COLUMNS: dict[str, pl.DataType] = {
    "lookup_key": pl.String(),
    "country_code": pl.String(),
    "alpha3": pl.String(),
    "country_name": pl.String(),
    "key_source": pl.String(),
}
SUBDIVISION_COLUMNS: dict[str, pl.DataType] = {
    "country_code": pl.String(),
    "lookup_key": pl.String(),
    "state_code": pl.String(),
    "subdivision_code": pl.String(),
    "subdivision_name": pl.String(),
}
PUBLIC_SUFFIX_COLUMNS: dict[str, pl.DataType] = {
    "suffix": pl.String(),
    "kind": pl.String(),
    "is_private": pl.Boolean(),
}

# Everyday spellings that are in no ISO name field. Lower case; values are alpha-2 codes.
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "us of a": "US",
    "america": "US",
    "uae": "AE",
    "russia": "RU",
    "south korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "turkey": "TR",
    "ivory coast": "CI",
    "holland": "NL",
    "the netherlands": "NL",
    "czech republic": "CZ",
    "macedonia": "MK",
    "swaziland": "SZ",
    "cape verde": "CV",
    "burma": "MM",
    "east timor": "TL",
    "vatican": "VA",
    "vatican city": "VA",
    "brunei": "BN",
    "palestine": "PS",
    "micronesia": "FM",
    "drc": "CD",
    "dr congo": "CD",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "hong kong sar": "HK",
    "macau": "MO",
}

# Earlier sources win when two countries claim the same spelling.
_COUNTRY_KEY_PRIORITY = ("alpha_2", "alpha_3", "name", "common_name", "official_name", "alias")


def lookup_key(text: str) -> str:
    """The form every spelling is stored under: trimmed, lower-cased, single spaces."""
    return re.sub(r"\s+", " ", text.strip().lower())


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _spellings(text: str) -> Iterator[str]:
    """A name's lookup keys: as written, without accents, and without/only its [bracket] part.

    ISO lists some subdivisions as "Illes Balears [Islas Baleares]"; each part is a spelling.
    """
    variants = {text}
    bracket = re.fullmatch(r"(.*?)\s*\[(.*)\]\s*", text)
    if bracket:
        variants.update({bracket.group(1), bracket.group(2)})
    for variant in variants:
        for form in (variant, _without_accents(variant)):
            key = lookup_key(form)
            if key:
                yield key


def _package_version(name: str) -> str:
    return importlib.metadata.version(name)


def table_versions() -> dict[str, str]:
    """The version each reference table must carry to be current."""
    pycountry_version = f"pycountry={_package_version('pycountry')};schema={SCHEMA_VERSION}"
    tld_version = f"tldextract={_package_version('tldextract')};schema={SCHEMA_VERSION}"
    return {
        tables.REFERENCE_COUNTRIES: pycountry_version,
        tables.REFERENCE_SUBDIVISIONS: pycountry_version,
        tables.REFERENCE_PUBLIC_SUFFIXES: tld_version,
    }


def countries_frame() -> pl.DataFrame:
    """One row per accepted country spelling (lookup_key is unique)."""
    candidates: list[tuple[int, str, str, str, str, str]] = []
    by_alpha2: dict[str, tuple[str, str]] = {}
    for country in pycountry.countries:
        alpha2, alpha3, name = country.alpha_2, country.alpha_3, country.name
        by_alpha2[alpha2] = (alpha3, name)
        for source in _COUNTRY_KEY_PRIORITY[:-1]:
            value = getattr(country, source, None)
            if not value:
                continue
            rank = _COUNTRY_KEY_PRIORITY.index(source)
            for key in _spellings(value):
                candidates.append((rank, key, alpha2, alpha3, name, source))
    alias_rank = _COUNTRY_KEY_PRIORITY.index("alias")
    for alias, alpha2 in COUNTRY_ALIASES.items():
        alpha3, name = by_alpha2[alpha2]
        candidates.append((alias_rank, lookup_key(alias), alpha2, alpha3, name, "alias"))

    chosen: dict[str, tuple[str, str, str, str]] = {}
    for _rank, key, alpha2, alpha3, name, source in sorted(candidates):
        chosen.setdefault(key, (alpha2, alpha3, name, source))
    rows = [(key, *values) for key, values in sorted(chosen.items())]
    return pl.DataFrame(rows, schema=COUNTRY_COLUMNS, orient="row")


def subdivisions_frame() -> pl.DataFrame:
    """Per country, one row per accepted subdivision spelling ((country, lookup_key) unique).

    When two subdivisions of a country share a spelling, the top-level one wins (then the
    lowest code), so "Paris" or "Dhaka" resolve the same way on every run.
    """
    candidates: list[tuple[str, str, int, int, str, str, str]] = []
    for sub in pycountry.subdivisions:
        country_code, code, name = sub.country_code, sub.code, sub.name
        short = code.split("-", 1)[1]
        level = 0 if sub.parent_code is None else 1
        keys = [(0, lookup_key(code)), (0, lookup_key(short))]
        keys += [(1, key) for key in _spellings(name)]
        for key_rank, key in keys:
            candidates.append((country_code, key, key_rank, level, code, short, name))

    chosen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for country_code, key, _key_rank, _level, code, short, name in sorted(candidates):
        chosen.setdefault((country_code, key), (short, code, name))
    rows = [(cc, key, short, code, name) for (cc, key), (short, code, name) in chosen.items()]
    rows.sort()
    return pl.DataFrame(rows, schema=SUBDIVISION_COLUMNS, orient="row")


def _suffix_list_text() -> str:
    """The Public Suffix List snapshot shipped inside the tldextract package (no network)."""
    resource = importlib.resources.files("tldextract").joinpath(".tld_set_snapshot")
    return resource.read_text(encoding="utf-8")


def _suffix_rows(rules: Iterable[str], is_private: bool) -> Iterator[tuple[str, str, bool]]:
    for rule in rules:
        if rule.startswith("!"):
            kind, suffix = "exception", rule[1:]
        elif rule.startswith("*."):
            kind, suffix = "wildcard", rule
        else:
            kind, suffix = "normal", rule
        suffix = suffix.lower()
        yield suffix, kind, is_private
        try:
            ascii_form = suffix.encode("idna").decode("ascii")
        except UnicodeError:
            continue
        if ascii_form != suffix:
            yield ascii_form, kind, is_private


def public_suffixes_frame() -> pl.DataFrame:
    """Every rule of the bundled Public Suffix List (ICANN and private sections)."""
    public, private = extract_tlds_from_suffix_list(_suffix_list_text())
    seen: dict[tuple[str, str], bool] = {}
    for suffix, kind, is_private in (
        *_suffix_rows(public, is_private=False),
        *_suffix_rows(private, is_private=True),
    ):
        # A rule in both sections counts as public (ICANN).
        seen.setdefault((suffix, kind), is_private)
    rows = [(suffix, kind, flag) for (suffix, kind), flag in sorted(seen.items())]
    return pl.DataFrame(rows, schema=PUBLIC_SUFFIX_COLUMNS, orient="row")


BUILDERS = {
    tables.REFERENCE_COUNTRIES: countries_frame,
    tables.REFERENCE_SUBDIVISIONS: subdivisions_frame,
    tables.REFERENCE_PUBLIC_SUFFIXES: public_suffixes_frame,
}


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, _, table = name.partition(".")
    rows = con.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(rows)


def _current_versions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not _table_exists(con, VERSIONS_TABLE):
        return {}
    rows = con.execute(f"select table_name, version from {VERSIONS_TABLE}").fetchall()
    return {str(name): str(version) for name, version in rows}


def load_reference_tables(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> list[str]:
    """Create or refresh the reference.* tables; returns the names of the tables (re)built.

    Idempotent and cheap when the tables exist at the installed packages' versions.
    """
    con.execute("create schema if not exists reference")
    wanted = table_versions()
    current = _current_versions(con)
    stale = [
        name
        for name, version in wanted.items()
        if force or current.get(name) != version or not _table_exists(con, name)
    ]
    if not stale:
        return []
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    for name in stale:
        warehouse.write_table(con, name, BUILDERS[name]())
    versions = pl.DataFrame(
        {
            "table_name": list(wanted),
            "version": list(wanted.values()),
            "loaded_at": [loaded_at if name in stale else _loaded_at(con, name) for name in wanted],
        },
        schema={"table_name": pl.String(), "version": pl.String(), "loaded_at": pl.Datetime("us")},
    )
    warehouse.write_table(con, VERSIONS_TABLE, versions)
    return stale


def _loaded_at(con: duckdb.DuckDBPyConnection, name: str) -> datetime | None:
    if not _table_exists(con, VERSIONS_TABLE):
        return None
    rows = con.execute(
        f"select loaded_at from {VERSIONS_TABLE} where table_name = ?", [name]
    ).fetchall()
    return rows[0][0] if rows else None
