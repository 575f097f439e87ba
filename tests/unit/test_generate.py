"""The synthetic org generator: contract shape, determinism, stories, realism, bad rows."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pycountry
import pytest

from switchboard.config import RoutingConfig, load_config
from switchboard.contracts import load_contracts
from switchboard.engine.territory import territory_table
from switchboard.generate import (
    BACK_FROM_LEAVE_DAYS,
    DEFAULT_AS_OF,
    EMAIL_DOMAIN,
    ENTITIES,
    OrgSummary,
    generate_org,
)

AS_OF = DEFAULT_AS_OF
CARRYING = {"AE", "SDR"}


def read(summary: OrgSummary, entity: str) -> pl.DataFrame:
    """A CSV exactly as written: every cell as text, empty cells as null."""
    return pl.read_csv(summary.files[entity], infer_schema=False)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> OrgSummary:
    return generate_org(tmp_path_factory.mktemp("org"), accounts=2000)


@pytest.fixture(scope="module")
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


def invalid_reps(tables: dict[str, pl.DataFrame]) -> set[str]:
    """Carrying reps who may no longer own: deactivated, terminated, or moved out of sales."""
    joined = tables["reps"].join(tables["hr"], on="email", how="left", suffix="_hr")
    carrying = joined.filter(pl.col("role").is_in(CARRYING))
    bad = carrying.filter(
        (pl.col("is_active") == "false")
        | (pl.col("status") == "terminated")
        | ~pl.col("role_hr").is_in(CARRYING)
    )
    return set(bad["rep_id"].to_list())


# -- territory matching, re-implemented from the contract semantics -----------------------

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


# -- shape and determinism ------------------------------------------------------------------


def test_every_entity_is_written_with_exactly_the_contract_columns(org: OrgSummary) -> None:
    contracts = load_contracts()
    assert set(org.files) == set(ENTITIES) == set(contracts)
    for entity, path in org.files.items():
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == contracts[entity].column_names, entity


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(
    tmp_path: Path, file_format: str
) -> None:
    first = generate_org(tmp_path / "a", accounts=600, file_format=file_format)  # type: ignore[arg-type]
    second = generate_org(tmp_path / "b", accounts=600, file_format=file_format)  # type: ignore[arg-type]
    other = generate_org(tmp_path / "c", accounts=600, seed=8, file_format=file_format)  # type: ignore[arg-type]
    for entity in ENTITIES:
        assert first.files[entity].read_bytes() == second.files[entity].read_bytes(), entity
    for entity in ("accounts", "leads", "opportunities", "reps", "territory_members"):
        assert first.files[entity].read_bytes() != other.files[entity].read_bytes(), entity


def test_counts_follow_the_arguments_and_the_defaults(org: OrgSummary, tmp_path: Path) -> None:
    assert org.counts["accounts"] == 2000
    assert org.counts["leads"] == 200  # accounts // 10
    assert org.counts["reps"] == 24  # max(24, accounts // 1000)
    assert org.counts["territories"] == 15  # max(15, reps // 5)
    assert org.counts["hr"] == 24 + 1  # one HR row per rep, plus the former employee
    custom = generate_org(tmp_path, accounts=1000, leads=77, reps=40, territories=23)
    assert {k: custom.counts[k] for k in ("accounts", "leads", "reps", "territories")} == {
        "accounts": 1000,
        "leads": 77,
        "reps": 40,
        "territories": 23,
    }
    for entity in ENTITIES:
        assert read(custom, entity).height == custom.counts[entity]


def test_text_formats_follow_the_snapshot_contract(tables: dict[str, pl.DataFrame]) -> None:
    iso = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
    for entity, column in (
        ("accounts", "created_at"),
        ("leads", "created_at"),
        ("opportunities", "created_at"),
        ("activities", "occurred_at"),
        ("hr", "updated_at"),
    ):
        values = tables[entity][column].drop_nulls()
        bad = values.filter(~values.str.contains(iso)).to_list()
        assert bad in ([], ["not-a-date"]), (entity, column, bad[:3])
    assert set(tables["reps"]["is_active"].unique()) == {"true", "false"}
    assert set(tables["opportunities"]["is_closed"].unique()) == {"true", "false"}
    skills = tables["reps"]["skills"].drop_nulls()
    assert skills.str.contains(";").any()  # list cells are ;-separated
    assert tables["hr"]["status_start"].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()


def test_parquet_holds_contract_columns_and_types(tmp_path: Path) -> None:
    summary = generate_org(tmp_path, accounts=600, file_format="parquet")
    for entity, contract in load_contracts().items():
        frame = pl.read_parquet(summary.files[entity])
        assert frame.schema == pl.Schema(contract.polars_schema), entity
        assert frame.height == summary.counts[entity]
    accounts = pl.read_parquet(summary.files["accounts"])
    # Typed stand-ins for the text-only bad values: negative employees, missing created_at.
    assert accounts.filter(pl.col("employees") < 0).height == 1
    assert accounts["created_at"].null_count() == 1
    assert accounts.filter(pl.col("tier") == 7).height == 1


def test_writing_one_format_removes_the_other(tmp_path: Path) -> None:
    generate_org(tmp_path, accounts=300, file_format="parquet")
    generate_org(tmp_path, accounts=300, file_format="csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{e}.csv" for e in ENTITIES)


def test_progress_is_reported_once_per_entity(tmp_path: Path) -> None:
    seen: list[str] = []
    generate_org(tmp_path, accounts=300, progress=seen.append)
    assert [line.split(":")[0] for line in seen] == list(ENTITIES)


def test_arguments_that_cannot_make_an_org_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="accounts must be at least"):
        generate_org(tmp_path, accounts=50)
    with pytest.raises(ValueError, match="territories must be at least 15"):
        generate_org(tmp_path, accounts=2000, territories=10)
    with pytest.raises(ValueError, match="cannot staff"):
        generate_org(tmp_path, accounts=2000, reps=24, territories=100)
    with pytest.raises(ValueError, match="file_format"):
        generate_org(tmp_path, accounts=2000, file_format="xlsx")  # type: ignore[arg-type]


# -- stories -------------------------------------------------------------------------------


def test_acme_lead_and_account_point_at_different_territories(
    org: OrgSummary, tables: dict[str, pl.DataFrame]
) -> None:
    s = org.stories
    account = one(tables["accounts"], "account_id", "ACC-ACME")
    assert (account["name"], account["domain"], account["country"], account["state"]) == (
        "Acme Corp",
        "acme.com",
        "US",
        "NY",
    )
    assert (account["employees"], account["owner_id"]) == ("5000", "REP-DANA")
    opp = one(tables["opportunities"], "opportunity_id", "OPP-ACME-1")
    assert (opp["account_id"], opp["owner_id"], opp["is_closed"]) == (
        "ACC-ACME",
        "REP-DANA",
        "false",
    )
    assert float(opp["amount"] or 0) == 180_000
    lead = one(tables["leads"], "lead_id", "LEAD-ACME-CA")
    assert (lead["email"], lead["company"], lead["country"], lead["state"]) == (
        "jane.doe@acme.com",
        "Acme Corp",
        "US",
        "CA",
    )
    assert lead["owner_id"] is None and lead["employees"] == "5000"
    assert lead["created_at"] == (AS_OF - timedelta(minutes=30)).isoformat()
    dana = one(tables["reps"], "rep_id", "REP-DANA")
    assert (dana["name"], dana["role"], dana["team"]) == ("Dana East", "AE", "NA-East Enterprise")
    # Acme's account sits in NA-East Enterprise (Dana's), its lead's address in NA-West.
    matched = territory_matches(
        pl.concat(
            [
                tables["accounts"]
                .filter(pl.col("account_id") == "ACC-ACME")
                .select(
                    "country",
                    "state",
                    "postal_code",
                    "industry",
                    "employees",
                    record=pl.col("account_id"),
                ),
                tables["leads"]
                .filter(pl.col("lead_id") == "LEAD-ACME-CA")
                .select(
                    "country",
                    "state",
                    "postal_code",
                    "industry",
                    "employees",
                    record=pl.col("lead_id"),
                ),
            ]
        ),
        tables["territories"],
        "record",
    )
    by_record = {r: set(g["territory_id"]) for (r,), g in matched.group_by("record")}
    assert by_record["ACC-ACME"] == {s.acme_territory}
    assert by_record["LEAD-ACME-CA"] == {s.acme_lead_territory}
    assert s.acme_territory.startswith("T-NAE-ENT") and s.acme_lead_territory.startswith(
        "T-NAW-ENT"
    )
    assert "REP-DANA" in members(tables, s.acme_territory)
    assert "REP-DANA" not in members(tables, s.acme_lead_territory)


def test_globex_subsidiary_is_new_unowned_and_under_a_named_parent(
    org: OrgSummary, tables: dict[str, pl.DataFrame]
) -> None:
    named = one(tables["named_accounts"], "account_id", "ACC-GLOBEX")
    assert (named["owner_id"], named["program"]) == ("REP-NAMED", "Strategic")
    assert one(tables["reps"], "rep_id", "REP-NAMED")["role"] == "AE"
    parent = one(tables["accounts"], "account_id", "ACC-GLOBEX")
    assert (parent["name"], parent["owner_id"]) == ("Globex Corporation", "REP-NAMED")
    sub = one(tables["accounts"], "account_id", "ACC-GLOBEX-EU")
    assert (sub["name"], sub["parent_account_id"], sub["country"]) == (
        "Globex Europe GmbH",
        "ACC-GLOBEX",
        "DE",
    )
    assert sub["owner_id"] is None
    assert sub["created_at"] == (AS_OF - timedelta(minutes=20)).isoformat()
    assert org.stories.named_subsidiary_territory.startswith("T-EMEA")
    assert "REP-NAMED" not in members(tables, org.stories.named_subsidiary_territory)


def test_leave_rep_keeps_a_book_and_new_accounts_arrive_in_her_territory(
    org: OrgSummary, tables: dict[str, pl.DataFrame]
) -> None:
    s = org.stories
    lee = one(tables["reps"], "rep_id", "REP-LEAVE")
    assert (lee["name"], lee["role"], lee["team"]) == ("Lee Leave", "AE", "NA-West Mid-Market")
    hr = one(tables["hr"], "email", lee["email"] or "")
    assert hr["status"] == "leave"
    assert hr["status_start"] is not None and hr["status_start"] < AS_OF.date().isoformat()
    assert hr["status_end"] == (AS_OF.date() + timedelta(days=30)).isoformat()
    assert tables["accounts"].filter(pl.col("owner_id") == "REP-LEAVE").height > 0
    assert "REP-LEAVE" in members(tables, s.leave_territory)
    assert len(members(tables, s.leave_territory) - {"REP-LEAVE"}) >= 2
    assert_new_unowned_accounts_in(tables, s.leave_new_accounts, s.leave_territory)


def test_overloaded_and_light_reps_share_a_territory_that_gets_new_accounts(
    org: OrgSummary, tables: dict[str, pl.DataFrame]
) -> None:
    s = org.stories
    index = workload_index(tables)
    assert index["REP-OVER"] > 100
    assert index["REP-LIGHT"] < 60
    assert {"REP-OVER", "REP-LIGHT"} <= members(tables, s.overload_territory)
    assert s.overload_territory.startswith("T-NAC-SMB")
    assert_new_unowned_accounts_in(tables, s.overload_new_accounts, s.overload_territory)
    # REP-LIGHT is back from nine days of leave: available today, away 3 of the last 7 days
    liam = one(tables["reps"], "rep_id", "REP-LIGHT")
    hr = one(tables["hr"], "email", liam["email"] or "")
    back = AS_OF.date() - timedelta(days=BACK_FROM_LEAVE_DAYS)
    assert (hr["status"], hr["status_end"]) == ("leave", back.isoformat())
    assert hr["status_start"] == (back - timedelta(days=9)).isoformat()


def test_leaver_is_terminated_with_pipeline_and_tier_three_accounts(
    org: OrgSummary, tables: dict[str, pl.DataFrame]
) -> None:
    pat = one(tables["reps"], "rep_id", "REP-LEAVER")
    assert (pat["name"], pat["role"], pat["team"], pat["manager_id"]) == (
        "Pat Leaver",
        "AE",
        "NA-East Mid-Market",
        "REP-MGR-EAST",
    )
    assert one(tables["reps"], "rep_id", "REP-MGR-EAST")["role"] == "Sales Manager"
    hr = one(tables["hr"], "email", pat["email"] or "")
    assert hr["status"] == "terminated"
    assert hr["status_start"] == (AS_OF.date() - timedelta(days=1)).isoformat()
    book = tables["accounts"].filter(pl.col("owner_id") == "REP-LEAVER")
    assert book.height == 40  # max(40, accounts // 500)
    assert set(book["account_id"]) == set(org.stories.leaver_accounts)
    assert "REP-LEAVER" in members(tables, org.stories.leaver_territory)
    open_opps = tables["opportunities"].filter(pl.col("is_closed") == "false")
    pipeline = book.join(open_opps, on="account_id", how="semi")
    assert set(
        open_opps.filter(pl.col("account_id").is_in(book["account_id"].implode()))["owner_id"]
    ) == {"REP-LEAVER"}
    assert 0.15 <= pipeline.height / book.height <= 0.25
    assert set(pipeline["tier"]) <= {"1", "2"}
    assert 0.25 <= (book["tier"] == "3").mean() <= 0.35  # type: ignore[operator]


def assert_new_unowned_accounts_in(
    tables: dict[str, pl.DataFrame], account_ids: tuple[str, ...], territory_id: str
) -> None:
    assert len(account_ids) >= 5
    new = tables["accounts"].filter(pl.col("account_id").is_in(list(account_ids)))
    assert new.height == len(account_ids)
    assert new["owner_id"].null_count() == new.height
    created = new.select(ts("created_at")).to_series()
    assert (created >= AS_OF - timedelta(hours=1)).all() and (created < AS_OF).all()
    matched = territory_matches(
        new.select(
            "country", "state", "postal_code", "industry", "employees", record=pl.col("account_id")
        ),
        tables["territories"],
        "record",
    )
    # the story territory and nothing else: no overlay can take these records elsewhere
    assert (
        matched.group_by("record")
        .agg(pl.col("territory_id"))
        .filter(pl.col("territory_id") != pl.lit([territory_id]))
        .height
        == 0
    )
    assert matched.height == len(account_ids)


def workload_index(tables: dict[str, pl.DataFrame]) -> dict[str, float]:
    """100 x (accounts + 0.5 x accounts with open pipeline) / capacity, per rep."""
    accounts = tables["accounts"].filter(pl.col("owner_id").is_not_null())
    open_accounts = tables["opportunities"].filter(pl.col("is_closed") == "false")["account_id"]
    load = accounts.group_by("owner_id").agg(
        units=pl.len() + 0.5 * pl.col("account_id").is_in(open_accounts.implode()).sum()
    )
    reps = (
        tables["reps"]
        .join(load, left_on="rep_id", right_on="owner_id")
        .with_columns(index=100 * pl.col("units") / pl.col("capacity").cast(pl.Float64))
    )
    return dict(zip(reps["rep_id"], reps["index"], strict=True))


# -- realism -------------------------------------------------------------------------------


def test_owners_work_a_territory_their_accounts_match(tables: dict[str, pl.DataFrame]) -> None:
    accounts = (
        tables["accounts"]
        .filter(pl.col("owner_id").is_not_null() & pl.col("account_id").is_not_null())
        .unique("account_id", keep="first")
    )
    matched = territory_matches(
        accounts.select(
            "country", "state", "postal_code", "industry", "employees", record=pl.col("account_id")
        ),
        tables["territories"],
        "record",
    )
    covered = matched.join(
        tables["territory_members"].select("territory_id", "rep_id"), on="territory_id"
    ).join(accounts.select(record="account_id", rep_id="owner_id"), on=["record", "rep_id"])
    in_territory = covered["record"].n_unique() / accounts.height
    unmatched = accounts.height - matched["record"].n_unique()
    assert in_territory > 0.98  # the rest sit outside every territory (rule gaps)
    assert 0 < unmatched <= 0.02 * accounts.height
    multi = matched.group_by("record").len().filter(pl.col("len") > 1)
    assert multi.height > 10  # overlays make real multi-territory matches


def test_owners_sit_in_the_territory_the_engines_tiebreak_picks(
    tables: dict[str, pl.DataFrame],
) -> None:
    """Where an account matches several territories, the generator seats its owner in the
    one the engine would pick: its `territory_table` ranks under the default tie-break."""
    accounts = (
        tables["accounts"]
        .filter(
            pl.col("owner_id").is_not_null()
            & pl.col("account_id").is_not_null()
            & pl.col("employees").str.contains(r"^\d+$")
        )
        .unique("account_id", keep="none")
    )
    matched = territory_matches(
        accounts.select(
            "country", "state", "postal_code", "industry", "employees", record=pl.col("account_id")
        ),
        tables["territories"],
        "record",
    )
    criteria = ("countries", "states", "postal_prefixes", "industries")
    plan = tables["territories"].select(
        "territory_id",
        "overflow_queue",
        territory_name="name",
        priority=pl.col("priority").cast(pl.Int64),
        specificity=pl.sum_horizontal(
            *[pl.col(c).is_not_null() for c in criteria],
            pl.col("min_employees").is_not_null() | pl.col("max_employees").is_not_null(),
        ),
    )
    ranks = territory_table(plan.lazy(), RoutingConfig()).select(
        "territory_id", "prefix_rank", "suffix_rank"
    )
    winners = (
        matched.join(ranks, on="territory_id")
        .sort("record", "prefix_rank", "suffix_rank")
        .group_by("record", maintain_order=True)
        .agg(winner=pl.col("territory_id").first(), candidates=pl.len())
        .filter(pl.col("candidates") > 1)
    )
    # Owners who work exactly one of their account's territories tell which one won.
    decisive = (
        matched.join(accounts.select(record="account_id", rep_id="owner_id"), on="record")
        .join(
            tables["territory_members"].select("territory_id", "rep_id"),
            on=["territory_id", "rep_id"],
        )
        .group_by("record")
        .agg(pl.col("territory_id").first(), owner_in=pl.len())
        .filter(pl.col("owner_in") == 1)
        .join(winners, on="record")
    )
    assert decisive.height > 20
    assert decisive.filter(pl.col("territory_id") != pl.col("winner")).height == 0


def test_the_generator_ranks_territories_by_the_shipped_tiebreak() -> None:
    """The generator predicts winners under the default tie-break: routing.yml's own."""
    assert load_config().territory_tiebreak == RoutingConfig().territory_tiebreak


def test_guards_would_not_trip_on_the_generated_snapshot(tables: dict[str, pl.DataFrame]) -> None:
    invalid = invalid_reps(tables)
    carrying = tables["reps"].filter(pl.col("role").is_in(CARRYING)).height
    assert "REP-LEAVER" in invalid and len(invalid) >= 2
    assert len(invalid) / carrying < 0.2
    owned = tables["accounts"].filter(pl.col("owner_id").is_not_null())
    moved = owned.filter(pl.col("owner_id").is_in(list(invalid))).height
    assert moved / owned.height < 0.15
    hr = tables["hr"]
    assert hr.filter(pl.col("status") == "leave").height >= 1
    assert tables["reps"].filter(pl.col("is_active") == "false").height in (1, 2)


def test_geography_spellings_and_sizes_look_like_a_crm_export(
    tables: dict[str, pl.DataFrame],
) -> None:
    accounts = tables["accounts"]
    countries = set(accounts["country"].drop_nulls())
    assert {"US", "United States", "USA", "DE", "GB", "JP"} <= countries
    assert countries & {"BR", "ZA", "MX", "AE", "Brazil", "South Africa"}
    assert accounts["state"].is_in(["California", "New York", "Texas"]).any()
    assert (
        accounts["state"].is_in(["CA", "NY", "TX"]).sum()
        > accounts["state"].is_in(["California", "New York", "Texas"]).sum()
    )
    us = accounts.filter(pl.col("country").is_in(["US", "USA", "United States"]))
    assert us["postal_code"].str.contains(r"^\d{5}$").all()
    ca = us.filter(pl.col("state").is_in(["CA", "California"]))
    assert ca["postal_code"].str.slice(0, 2).is_in(["90", "91", "92", "93", "94", "95", "96"]).all()
    domains = accounts["domain"]
    assert domains.null_count() > 0
    assert domains.str.starts_with("https://").any() and domains.str.contains("/about").any()
    sized = accounts.select(
        emp=pl.col("employees").cast(pl.Int64, strict=False),
        rev=pl.col("annual_revenue").cast(pl.Float64),
    ).drop_nulls()
    assert sized.select(pl.corr(pl.col("emp").log(), pl.col("rev").log())).item() > 0.8
    tiers = accounts["tier"].value_counts().sort("count", descending=True)
    assert tiers["tier"][0] == "3"
    assert accounts["industry"].n_unique() == 12
    subs = accounts.filter(pl.col("parent_account_id").is_not_null())
    assert 0.02 <= subs.height / accounts.height <= 0.035
    chain = subs.join(
        subs.select("account_id"), left_on="parent_account_id", right_on="account_id", how="semi"
    )
    assert chain.height > 0  # a few two-level hierarchies


def test_leads_match_accounts_by_domain_by_company_or_not_at_all(
    tables: dict[str, pl.DataFrame],
) -> None:
    leads = tables["leads"].with_columns(host=pl.col("email").str.extract(r"@(.+)$"))
    hosts = (
        tables["accounts"]
        .select(
            pl.col("domain")
            .str.replace(r"^\w+://", "")
            .str.replace(r"^www\.", "")
            .str.replace(r"/.*$", "")
        )
        .to_series()
        .drop_nulls()
    )
    names = tables["accounts"]["name"]
    personal = leads.filter(
        pl.col("host").is_in(
            [
                "gmail.com",
                "yahoo.com",
                "outlook.com",
                "hotmail.com",
                "icloud.com",
                "aol.com",
                "proton.me",
                "gmx.de",
            ]
        )
    )
    at_account = leads.filter(pl.col("host").is_in(hosts.implode()))
    assert at_account.height >= 0.3 * leads.height
    assert personal.filter(pl.col("company").is_in(names.implode())).height > 0.1 * leads.height
    unknown = leads.filter(
        ~pl.col("host").is_in(hosts.implode()) & ~pl.col("host").is_in(personal["host"].implode())
    )
    assert unknown.height > 0.1 * leads.height
    created = leads.select(ts("created_at")).to_series()
    assert (created >= AS_OF - timedelta(days=1)).mean() > 0.7  # type: ignore[operator]
    assert (created >= AS_OF - timedelta(hours=1)).mean() > 0.3  # type: ignore[operator]
    owned = leads["owner_id"].is_not_null().mean()
    assert 0 < owned < 0.2  # type: ignore[operator]
    assert set(leads["source"]) == {"Web", "Event", "Partner", "Paid Search", "Webinar"}


def test_new_unowned_accounts_arrive_in_the_last_hour(tables: dict[str, pl.DataFrame]) -> None:
    accounts = tables["accounts"].with_columns(created=ts("created_at"))
    new = accounts.filter(pl.col("created") >= AS_OF - timedelta(hours=1))
    assert new.height == 2000 // 40 + 1  # + Globex Europe
    assert new["owner_id"].null_count() == new.height
    old = accounts.filter(pl.col("created") < AS_OF - timedelta(days=1))
    assert 0.01 < old["owner_id"].null_count() / old.height < 0.04
    assert (old["created"] > AS_OF - timedelta(days=3 * 366)).all()  # a three-year book


def test_reps_territories_and_pipeline_are_plausible(tables: dict[str, pl.DataFrame]) -> None:
    reps, terr, mem = tables["reps"], tables["territories"], tables["territory_members"]
    assert reps["rep_id"].str.contains(r"^REP-").all() and reps["email"].is_unique().all()
    assert reps["email"].str.ends_with("@" + EMAIL_DOMAIN).all()
    managers = reps.filter(pl.col("role") == "Sales Manager")
    assert managers.height >= 4 and managers["capacity"].null_count() == managers.height
    carrying = reps.filter(pl.col("role").is_in(CARRYING))
    assert set(carrying["manager_id"]) <= set(managers["rep_id"])
    assert not set(managers["rep_id"]) & set(mem["rep_id"])
    assert (reps["role"] == "SDR").any()
    assert terr["overflow_queue"].str.starts_with("queue-").all()
    assert "queue-na-west-smb" in set(terr["overflow_queue"])
    assert set(terr["priority"]) >= {"50", "100"}
    overlays = terr.filter(pl.col("industries").is_not_null())
    assert (overlays["priority"] == "100").any() and (overlays["priority"] != "100").any()
    sizes = mem.group_by("territory_id").len()["len"]
    assert sizes.min() >= 3 and sizes.max() <= 8  # type: ignore[operator]
    assert set(mem["weight"]) >= {"1.0"} and set(mem["weight"]) <= {"0.5", "1.0", "1.5"}
    opps = tables["opportunities"]
    with_opps = opps["account_id"].n_unique() / tables["accounts"].height
    assert 0.12 < with_opps < 0.18
    open_opps = opps.filter(pl.col("is_closed") == "false")
    assert set(open_opps["stage"]) == {"Prospecting", "Discovery", "Proposal", "Negotiation"}
    assert open_opps["closed_at"].null_count() == open_opps.height
    named = tables["named_accounts"]
    assert 0.005 < named.height / tables["accounts"].height < 0.02
    assert (named["tier"] == "1").mean() > 0.7  # type: ignore[operator]
    activities = tables["activities"].select(ts("occurred_at")).to_series()
    assert (activities >= AS_OF - timedelta(days=30)).all()
    assert set(tables["activities"]["type"]) == {"call", "email", "meeting"}


def test_a_bigger_plan_splits_regions_by_state_and_postal_prefix(tmp_path: Path) -> None:
    summary = generate_org(tmp_path, accounts=3000, reps=300, territories=60)
    terr = read(summary, "territories")
    assert terr.height == 60 and terr["territory_id"].is_unique().all()
    assert terr["postal_prefixes"].drop_nulls().len() >= 3
    assert terr["states"].drop_nulls().len() > 20
    sizes = read(summary, "territory_members").group_by("territory_id").len()["len"]
    assert sizes.min() >= 3 and sizes.max() <= 8  # type: ignore[operator]
    assert summary.stories.leave_territory.startswith("T-NAW-MM-")


# -- bad rows ------------------------------------------------------------------------------


def test_bad_rows_are_there_once_each_and_never_on_story_records(
    tables: dict[str, pl.DataFrame],
) -> None:
    accounts = tables["accounts"]
    assert accounts["account_id"].null_count() == 1
    assert accounts.filter(pl.col("employees") == "lots").height == 1
    assert accounts.filter(pl.col("created_at") == "not-a-date").height == 1
    assert accounts.filter(pl.col("tier") == "7").height == 1
    ids = accounts["account_id"].drop_nulls()
    dup = ids.filter(ids.is_duplicated()).unique().to_list()
    assert len(dup) == 1 and not dup[0].startswith(("ACC-ACME", "ACC-GLOBEX"))
    copies = accounts.filter(pl.col("account_id") == dup[0])
    assert copies["name"].n_unique() == 2
    assert copies.drop("name").n_unique() == 1  # a copy under another name
    assert tables["leads"].filter(pl.col("email") == "not-an-email").height == 1
    assert tables["hr"].filter(pl.col("status") == "retired").height == 1
    assert set(tables["hr"]["status"]) == {"active", "leave", "terminated", "retired"}
    story = accounts.filter(pl.col("account_id").str.contains("ACME|GLOBEX"))
    assert story.height == 3 and story["employees"].str.contains(r"^\d+$").all()


def test_bad_rows_can_be_switched_off(tmp_path: Path) -> None:
    summary = generate_org(tmp_path, accounts=600, bad_rows=False)
    accounts = read(summary, "accounts")
    assert accounts["account_id"].null_count() == 0 and accounts["account_id"].is_unique().all()
    assert accounts["employees"].str.contains(r"^\d+$").all()
    assert accounts.select(ts("created_at")).to_series().null_count() == 0
    assert set(accounts["tier"]) == {"1", "2", "3"}
    assert read(summary, "leads")["email"].str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").all()
    hr = read(summary, "hr")
    assert hr.height == summary.counts["reps"]
    assert set(hr["status"]) <= {"active", "leave", "terminated"}
    assert summary.bad_rows == {}


def test_activities_per_account_fills_every_owned_account_and_leaves_the_rest_alone(
    tmp_path: Path,
) -> None:
    default = generate_org(tmp_path / "default", accounts=2000)
    dense = generate_org(tmp_path / "dense", accounts=2000, activities_per_account=10)
    for entity in ENTITIES:
        if entity != "activities":
            assert default.files[entity].read_bytes() == dense.files[entity].read_bytes(), entity
    assert default.counts["activities"] < 2000  # ~20% of the owned accounts, 2.5 each
    assert 19_000 < dense.counts["activities"] < 21_000  # 10 per account of the book
    activities = read(dense, "activities")
    accounts = read(dense, "accounts")
    owned = accounts.filter(pl.col("owner_id").is_not_null())["account_id"].drop_nulls()
    touched = activities["account_id"].unique()
    assert touched.is_in(owned.implode()).all()
    assert touched.len() > 0.99 * owned.n_unique()
    with pytest.raises(ValueError, match="activities_per_account"):
        generate_org(tmp_path / "bad", accounts=300, activities_per_account=-1)


def test_as_of_moves_every_timestamp(tmp_path: Path) -> None:
    later = datetime(2027, 3, 1, 12, 0, 0)
    summary = generate_org(tmp_path, accounts=300, as_of=later, bad_rows=False)
    lead = one(read(summary, "leads"), "lead_id", "LEAD-ACME-CA")
    assert lead["created_at"] == (later - timedelta(minutes=30)).isoformat()
    created = read(summary, "accounts").select(ts("created_at")).to_series()
    assert (created < later).all() and (created > later - timedelta(days=3 * 366)).all()
    assert re.search(r"2027", summary.files["hr"].read_text())


def test_the_demos_inbound_stories_are_added_only_when_asked(
    org: OrgSummary, tmp_path: Path
) -> None:
    """Working-hours reps, a skills desk with a lead nobody can take and a round-robin
    team, in territories only the story leads match (no country, industries of their own)."""
    demo = generate_org(tmp_path, accounts=300, inbound_stories=True)
    reps = read(demo, "reps").filter(pl.col("rep_id").is_in(["REP-BERLIN", "REP-NEWYORK"]))
    assert reps.select("timezone", "working_hours").rows() == [
        ("Europe/Berlin", "Mon-Fri 09:00-17:30"),
        ("America/New_York", "Mon-Fri 09:00-17:30"),
    ]
    leads = read(demo, "leads").filter(pl.col("lead_id").str.starts_with("LEAD-SKILL"))
    assert leads.select("lead_id", "required_skills", "country").rows() == [
        ("LEAD-SKILL-DE", "de;security", None),
        ("LEAD-SKILL-JA", "ja", None),
    ]
    territories = read(demo, "territories").filter(pl.col("method").is_not_null())
    assert territories.select("territory_id", "method").rows() == [
        ("T-INBOUND-HOURS", "workload"),
        ("T-INBOUND-SKILLS", "workload"),
        ("T-INBOUND-RR", "round_robin"),
        ("T-INBOUND-SLA", "workload"),
    ]
    # The SLA story: a demo request (the shipped routing.yml's SLA source) for a desk of
    # two who report to Morgan Eastman, and no activity on it.
    sla_lead = read(demo, "leads").filter(pl.col("lead_id") == "LEAD-SLA")
    assert sla_lead.select("source", "industry").rows() == [("Demo Request", "Fusion Energy")]
    assert load_config().sla is not None and load_config().sla.source_keys == ["demo request"]
    desk = read(demo, "reps").filter(pl.col("rep_id").str.starts_with("REP-SLA"))
    assert desk.select("rep_id", "manager_id").rows() == [
        ("REP-SLA-1", "REP-MGR-EAST"),
        ("REP-SLA-2", "REP-MGR-EAST"),
    ]
    assert "LEAD-SLA" not in (read(demo, "activities")["lead_id"].drop_nulls().to_list())
    plain_sources = set(read(org, "leads")["source"].drop_nulls())
    assert "Demo Request" not in plain_sources  # the SLA re-routes no generated lead
    story_industries = set(territories["industries"].to_list())
    assert not story_industries & set(read(org, "accounts")["industry"].drop_nulls())
    hr = read(demo, "hr")
    assert set(reps["email"]) <= set(hr["email"])
    plain = read(org, "reps")
    assert plain["timezone"].is_null().all() and "REP-BERLIN" not in plain["rep_id"]


def test_the_sla_story_row_reads_the_leads_decisions() -> None:
    from switchboard.stories import sla_row

    history = pl.DataFrame(
        {
            "decided_at": [datetime(2026, 11, 23, 9, 0), datetime(2026, 11, 23, 9, 35)],
            "owner_id": ["REP-SLA-1", "REP-SLA-2"],
            "queue": [None, None],
            "rule": ["territory", "sla_reroute"],
            "rationale": [
                "Routed …",
                "Not touched within 30 min by Lena Moss; re-routed (1 of 2) …",
            ],
        }
    )
    story, outcome = sla_row(history) or ("", "")
    assert story.startswith("Inbound lead from a Demo Request, nobody touches it")
    assert outcome == (
        "REP-SLA-1 via territory at 09:00; at 09:35 REP-SLA-2 via sla_reroute: "
        "Not touched within 30 min by Lena Moss; re-routed (1 of 2) …"
    )
    assert sla_row(history.head(1)) == (
        "Inbound lead from a Demo Request, nobody touches it",
        "REP-SLA-1 via territory at 09:00.",
    )
    assert sla_row(history.clear()) is None


def test_inbound_story_rows_read_the_routing_log() -> None:
    from switchboard.stories import _inbound_rows

    decisions = pl.DataFrame(
        {
            "record_id": ["LEAD-HOURS", "LEAD-SKILL-JA", "LEAD-RR-1", "LEAD-RR-2", "LEAD-RR-3"],
            "owner_id": ["REP-NEWYORK", None, "REP-RR-1", "REP-RR-2", "REP-RR-1"],
            "queue": [None, "queue-inbound-desk", None, None, None],
            "rule": ["territory", "overflow_queue", "territory", "territory", "territory"],
            "territory_id": ["T-INBOUND-HOURS", "T-INBOUND-SKILLS"] + ["T-INBOUND-RR"] * 3,
            "rationale": ["Routed …", "No member with skills ja …", "r", "r", "r"],
        }
    )

    def one(record_id: str) -> dict[str, object] | None:
        hit = decisions.filter(pl.col("record_id") == record_id)
        return hit.row(0, named=True) if hit.height else None

    rows = _inbound_rows(decisions, one)
    assert [outcome.split(":")[0] for _, outcome in rows[:2]] == [
        "REP-NEWYORK via territory",
        "queue-inbound-desk via overflow_queue",
    ]
    assert rows[2][1].startswith("3 new leads in rotation: REP-RR-1 2, REP-RR-2 1, REP-RR-3 0")
