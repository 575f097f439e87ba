"""One generated org shared by the generator tests, and the readers they share."""

from __future__ import annotations

import polars as pl
import pycountry
import pytest

from switchboard.generate import DEFAULT_AS_OF, ENTITIES, OrgSummary, generate_org

AS_OF = DEFAULT_AS_OF
CARRYING = {"AE", "SDR"}


def read(summary: OrgSummary, entity: str) -> pl.DataFrame:
    """A CSV exactly as written: every cell as text, empty cells as null."""
    return pl.read_csv(summary.files[entity], infer_schema=False)


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> OrgSummary:
    return generate_org(tmp_path_factory.mktemp("org"), accounts=2000)


@pytest.fixture(scope="session")
def tables(org: OrgSummary) -> dict[str, pl.DataFrame]:
    return {entity: read(org, entity) for entity in ENTITIES}


def ts(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False)


def one(frame: pl.DataFrame, column: str, value: str) -> dict[str, str | None]:
    rows = frame.filter(pl.col(column) == value)
    assert rows.height == 1, f"{column}={value}: {rows.height} rows"
    return rows.row(0, named=True)


def members(tables: dict[str, pl.DataFrame], territory_id: str) -> set[str]:
    m = tables["territory_members"]
    return set(m.filter(pl.col("territory_id") == territory_id)["rep_id"].to_list())


# Territory matching, re-implemented from the contract semantics.
_COUNTRY = {
    key.lower(): c.alpha_2 for c in pycountry.countries for key in (c.alpha_2, c.alpha_3, c.name)
}


_STATE = {
    (s.country_code, key.lower()): s.code.split("-")[1]
    for s in pycountry.subdivisions
    for key in (s.name, s.code.split("-")[1])
}


def territory_matches(records: pl.DataFrame, territories: pl.DataFrame, key: str) -> pl.DataFrame:
    """(key, territory_id) for every territory whose criteria the record meets."""
    country = [_COUNTRY.get((c or "").lower()) for c in records["country"]]
    state = [
        _STATE.get((cc, (s or "").lower())) if cc and s else None
        for cc, s in zip(country, records["state"], strict=True)
    ]
    recs = records.select(
        key,
        pl.Series("cc", country, dtype=pl.String),
        pl.Series("sc", state, dtype=pl.String),
        pl.col("postal_code").str.replace_all(" ", "").alias("pc"),
        "industry",
        pl.col("employees").cast(pl.Int64, strict=False).alias("emp"),
    )
    terr = territories.select(
        "territory_id",
        *[
            pl.col(c).str.split(";")
            for c in ("countries", "states", "postal_prefixes", "industries")
        ],
        pl.col("min_employees").cast(pl.Int64),
        pl.col("max_employees").cast(pl.Int64),
    )

    def listed(column: str, value: str) -> pl.Expr:
        return pl.col(column).is_null() | pl.col(column).list.contains(pl.col(value)).fill_null(
            False
        )

    pairs = recs.join(terr, how="cross").filter(
        listed("countries", "cc"),
        listed("states", "sc"),
        listed("industries", "industry"),
        pl.col("min_employees").is_null() | (pl.col("emp") >= pl.col("min_employees")),
        pl.col("max_employees").is_null() | (pl.col("emp") <= pl.col("max_employees")),
    )
    prefix_ok = (
        pairs.select(key, "territory_id", "pc", prefix=pl.col("postal_prefixes"))
        .explode("prefix")
        .filter(pl.col("prefix").is_null() | pl.col("pc").str.starts_with(pl.col("prefix")))
        .select(key, "territory_id")
        .unique()
    )
    return prefix_ok
