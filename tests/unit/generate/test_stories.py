"""The stories the demo tells, planted in the generated org where the engine will find them."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from switchboard.generate import BACK_FROM_LEAVE_DAYS, OrgSummary

from .conftest import AS_OF, members, one, territory_matches, ts


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
