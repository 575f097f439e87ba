"""A lead whose matched account this run decides follows that account (docs/ARCHITECTURE.md,
"Rule hierarchy"): the account's new owner or queue, not the stale exported owner and not
a territory pick of its own."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from switchboard.config import RoutingConfig
from switchboard.engine import route

from .conftest import AS_OF, Org, config_with, decision


def _org() -> Org:
    """Two territories: the new account matches NA West, its leads' own addresses NA East."""
    return (
        Org()
        .rep("R-ANA", "Ana Ruiz", index=10)
        .rep("R-BO", "Bo Li", index=20)
        .rep("R-CY", "Cy East", index=5)
        .territory("T-W", ["R-ANA", "R-BO"], name="NA West")
        .territory("T-E", ["R-CY"], name="NA East")
    )


def _with_leads(
    org: Org,
    account: str,
    *,
    own: tuple[str, ...] = ("T-E",),
    via_account: tuple[str, ...] | list[str] = (),
) -> Org:
    """Two new leads matched to ``account``, their own addresses in territories ``own``."""
    for i in (1, 2):
        org.lead(
            f"{account}-L{i}", account=account, territories=own, account_territories=via_account
        )
    return org


def test_leads_take_the_new_accounts_territory_owner() -> None:
    org = _with_leads(
        _org().account("ACC-0000123", name="Acme Corp", territories=["T-W"]),
        "ACC-0000123",
        via_account=["T-W"],
    )
    result = org.route()
    account = decision(result, "ACC-0000123")
    assert (account["rule"], account["owner_id"]) == ("territory", "R-ANA")
    for lead_id in ("ACC-0000123-L1", "ACC-0000123-L2"):
        lead = decision(result, lead_id)
        assert (lead["rule"], lead["owner_id"], lead["queue"], lead["territory_id"]) == (
            "account_owner",
            "R-ANA",
            None,
            "T-W",
        )
        assert lead["rationale"] == (
            "Lead follows account ACC-0000123 (Acme Corp, matched by domain), routed this run "
            "by territory NA West to Ana Ruiz."
        )
        assert lead["candidates"][0] == "account_owner:T-W:R-ANA"


def test_a_lead_matched_by_company_name_follows_too() -> None:
    org = _org().account("ACC-1", name="Acme Corp", territories=["T-W"])
    org.lead("L1", account="ACC-1", territories=["T-E"], method="company_name")
    lead = decision(org.route(), "L1")
    assert (lead["rule"], lead["owner_id"]) == ("account_owner", "R-ANA")
    assert "(Acme Corp, matched by company name)" in lead["rationale"]


@pytest.mark.parametrize(
    ("territories", "rule", "queue", "territory_id", "wording"),
    [
        (["T-FULL"], "overflow_queue", "q-full", "T-FULL", "overflow queue q-full"),
        ([], "fallback_queue", "fallback-queue", None, "catch-all queue fallback-queue"),
    ],
)
def test_leads_follow_the_account_into_its_queue(
    territories: list[str], rule: str, queue: str, territory_id: str | None, wording: str
) -> None:
    org = _org().territory("T-FULL", [], name="Full", queue="q-full")
    org.account("ACC-Q", name="Queueco", territories=territories)
    _with_leads(org, "ACC-Q", via_account=territories)
    result = org.route()
    assert (decision(result, "ACC-Q")["rule"], decision(result, "ACC-Q")["queue"]) == (rule, queue)
    for lead_id in ("ACC-Q-L1", "ACC-Q-L2"):
        lead = decision(result, lead_id)
        assert (lead["rule"], lead["owner_id"], lead["queue"], lead["territory_id"]) == (
            "account_owner",
            None,
            queue,
            territory_id,
        )
        assert lead["rationale"] == (
            f"Lead follows account ACC-Q (Queueco, matched by domain), sent this run to "
            f"{wording}, so the lead goes there too."
        )
    # Nobody received anything through the queued account.
    assert result.decisions["owner_id"].drop_nulls().is_empty()


def test_a_leavers_leads_follow_the_accounts_new_owner_or_pool() -> None:
    org = (
        _org()
        .rep("R-GONE", "Gus Gone", availability="terminated")
        .account("ACC-MOVED", "R-GONE", name="Moved", territories=["T-W"], tier=2)
        .account("ACC-POOLED", "R-GONE", name="Pooled", territories=["T-W"], tier=3)
        .lead("L-MOVED", "R-GONE", account="ACC-MOVED", territories=["T-E"])
        .lead("L-POOLED", "R-GONE", account="ACC-POOLED", territories=["T-E"])
    )
    result = org.route(mode="departure", leavers=("R-GONE",))
    moved = decision(result, "L-MOVED")
    assert (moved["rule"], moved["owner_id"]) == (
        "account_owner",
        decision(result, "ACC-MOVED")["owner_id"],
    )
    assert moved["rationale"].startswith("Owner Gus Gone left; lead follows account ACC-MOVED")
    pooled = decision(result, "L-POOLED")
    assert decision(result, "ACC-POOLED")["rule"] == "territory_pool"
    assert (pooled["rule"], pooled["queue"]) == ("account_owner", "pool:T-W")
    assert (
        "sent this run to territory pool pool:T-W, so the lead goes there too"
        in (pooled["rationale"])
    )


def test_an_account_kept_for_manager_review_is_not_followed() -> None:
    """Manager review gives the account neither a new owner nor a queue: the lead is routed
    as it was before (its own territory)."""
    org = (
        _org()
        .rep("R-GONE", "Gus Gone", availability="terminated")
        .account("ACC-PIPE", "R-GONE", territories=["T-W"])
        .opportunity("O1", "ACC-PIPE", "R-GONE")
        .lead("L1", account="ACC-PIPE", territories=["T-E"])
    )
    result = org.route()
    assert decision(result, "ACC-PIPE")["rule"] == "manager_review"
    lead = decision(result, "L1")
    assert (lead["rule"], lead["owner_id"]) == ("territory", "R-CY")


def test_lead_rules_ranked_above_account_owner_still_win() -> None:
    org = (
        _org()
        .rep("R-OPP", "Olive Opportunity", index=50)
        .rep("R-NAMED", "Nina Named", index=50)
        .account("ACC-OPP", territories=["T-W"])
        .opportunity("O1", "ACC-OPP", "R-OPP")
        .account("PARENT", "R-NAMED", name="Globex")
        .name("PARENT", "R-NAMED")
        .account("ACC-SUB", parent="PARENT", territories=["T-W"])
        .lead("L-OPP", account="ACC-OPP", territories=["T-E"])
        .lead("L-SUB", account="ACC-SUB", territories=["T-E"])
    )
    result = org.route()
    assert (decision(result, "L-OPP")["rule"], decision(result, "L-OPP")["owner_id"]) == (
        "open_opportunity",
        "R-OPP",
    )
    assert (decision(result, "L-SUB")["rule"], decision(result, "L-SUB")["owner_id"]) == (
        "named_parent",
        "R-NAMED",
    )
    # Without those rules the lead follows the account's decision, as account_owner.
    rules = [
        {"name": n, "enabled": True}
        for n in ("account_owner", "territory", "overflow_queue", "fallback_queue")
    ]
    result = org.route(config_with(rules=rules))
    lead = decision(result, "L-OPP")
    assert (lead["rule"], lead["owner_id"]) == (
        "account_owner",
        decision(result, "ACC-OPP")["owner_id"],
    )


def test_the_decided_owner_replaces_the_stale_exported_one() -> None:
    """A territory change moves an account whose owner sits outside its territories; the
    account's new unowned lead goes to the new owner, not the exported one."""
    org = (
        _org()
        .rep("R-OLD", "Otto Old", index=5)
        .territory("T-OLD", ["R-OLD"])
        .account("ACC-1", "R-OLD", name="Acme Corp", territories=["T-W"])
        .lead("L1", account="ACC-1", territories=["T-E"])
    )
    assert decision(org.route(), "L1")["owner_id"] == "R-OLD"  # hourly: account kept
    result = org.route(mode="territory_change")
    assert decision(result, "ACC-1")["owner_id"] == "R-ANA"
    lead = decision(result, "L1")
    assert (lead["rule"], lead["owner_id"]) == ("account_owner", "R-ANA")


def test_conflicts_compare_the_followers_pipeline_with_the_new_owner() -> None:
    org = (
        _org()
        .rep("R-AWAY", "Ada Away", availability="on_leave")
        .account("ACC-1", territories=["T-W"])
        .opportunity("O1", "ACC-1", "R-AWAY")
        .lead("L1", account="ACC-1", territories=["T-E"])
    )
    result = org.route()
    (row,) = result.conflicts.filter(pl.col("record_id") == "L1").to_dicts()
    assert (row["conflict_type"], row["resolution"], row["owner_id"]) == (
        "pipeline_owner_mismatch",
        "account_owner",
        "R-ANA",
    )
    assert [(c["rule"], c["owner_id"]) for c in row["candidates"]] == [
        ("open_opportunity", "R-AWAY"),
        ("account_owner", "R-ANA"),
        ("territory", "R-CY"),
    ]
    assert "unlike the account owner Ana Ruiz" in row["rationale"]


def test_the_followers_count_on_the_new_owner_before_later_records() -> None:
    """92 + one account (6.25) = 98.25, below high water; its two leads (1.25 each) take
    Ana to 100.75, so the next lead of the territory overflows instead of going to her."""
    org = (
        Org()
        .rep("R-ANA", "Ana Ruiz", index=92, capacity=20)
        .territory("T-W", ["R-ANA"], name="NA West", queue="q-west")
        .account("ACC-1", territories=["T-W"])
    )
    _with_leads(org, "ACC-1", own=(), via_account=["T-W"])
    org.lead("L-OTHER", territories=["T-W"])
    result = org.route()
    assert [decision(result, r)["owner_id"] for r in ("ACC-1", "ACC-1-L1", "ACC-1-L2")] == [
        "R-ANA"
    ] * 3
    assert decision(result, "ACC-1-L2")["rule"] == "account_owner"
    other = decision(result, "L-OTHER")
    assert (other["rule"], other["queue"]) == ("overflow_queue", "q-west")
    assert result.rep_state.filter(pl.col("rep_id") == "R-ANA")["is_overflowing"].item()


def test_account_owner_after_the_territory_rule_follows_only_without_a_territory() -> None:
    rules = [
        {"name": n, "enabled": True}
        for n in (
            "open_opportunity",
            "named_account",
            "territory",
            "account_owner",
            "overflow_queue",
            "fallback_queue",
        )
    ]
    org = _org().account("ACC-1", name="Acme Corp", territories=["T-W"])
    org.lead("L-OWN", account="ACC-1", territories=["T-E"])
    org.lead("L-NONE", account="ACC-1")
    result = org.route(config_with(rules=rules))
    assert (decision(result, "L-OWN")["rule"], decision(result, "L-OWN")["owner_id"]) == (
        "territory",
        "R-CY",
    )
    none = decision(result, "L-NONE")
    assert (none["rule"], none["owner_id"]) == (
        "account_owner",
        decision(result, "ACC-1")["owner_id"],
    )


def test_nothing_follows_when_account_owner_is_off() -> None:
    rules = [
        {"name": n, "enabled": n != "account_owner"}
        for n in (
            "open_opportunity",
            "named_account",
            "account_owner",
            "territory",
            "overflow_queue",
            "fallback_queue",
        )
    ]
    org = _with_leads(_org().account("ACC-1", territories=["T-W"]), "ACC-1")
    result = org.route(config_with(rules=rules))
    assert {decision(result, f"ACC-1-L{i}")["rule"] for i in (1, 2)} == {"territory"}


def test_a_scoped_run_follows_an_account_in_its_scope_only() -> None:
    """An arrivals pass: a new lead follows the new account decided in the same pass; a
    lead matched to an account that is context only reads its exported owner."""
    org = (
        _org()
        .rep("R-OWNER", "Olga Owner", index=50)
        .account("ACC-NEW", name="Newco", territories=["T-W"])
        .account("ACC-OLD", "R-OWNER", name="Oldco", territories=["T-W"])
        .lead("L-NEW", account="ACC-NEW", territories=["T-E"])
        .lead("L-OLD", account="ACC-OLD", territories=["T-E"])
    )
    scope = pl.LazyFrame(
        {"record_type": ["account", "lead", "lead"], "record_id": ["ACC-NEW", "L-NEW", "L-OLD"]}
    )
    result = route(replace(org.inputs(), scope=scope), RoutingConfig(), run_id="run-1", as_of=AS_OF)
    assert decision(result, "L-NEW")["owner_id"] == decision(result, "ACC-NEW")["owner_id"]
    assert "follows account ACC-NEW (Newco" in decision(result, "L-NEW")["rationale"]
    old = decision(result, "L-OLD")
    assert (old["rule"], old["owner_id"]) == ("account_owner", "R-OWNER")
    assert old["rationale"] == "Lead matched account Oldco by domain, owned by Olga Owner."
