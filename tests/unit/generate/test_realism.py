"""A generated org looks like a CRM export and routes like one: owners in the territory
the engine picks, spellings and sizes, lead matches, plausible reps and pipeline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl

from switchboard.config import RoutingConfig, load_config
from switchboard.engine.territory import territory_table
from switchboard.generate import EMAIL_DOMAIN, generate_org

from .conftest import AS_OF, CARRYING, read, territory_matches, ts


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
