"""Departures and territory changes: who is re-decided and where their book goes."""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest

from switchboard.config import RoutingConfig

from .conftest import Org, config_with, decision


def _leaver_org(leaver_availability: str = "available") -> Org:
    """Pat leaves: one account with pipeline, one Tier 3, ten to redistribute."""
    org = (
        Org()
        .rep("R-PAT", "Pat Leaver", availability=leaver_availability, index=40.0)
        .rep("R-X", index=30.0)
        .rep("R-Y", index=30.0)
        .rep("R-Z", index=30.0)
        .rep("R-ELSE", availability="terminated")
        .territory("T1", ["R-PAT", "R-X", "R-Y", "R-Z"], name="NA East")
        .account("A-PIPE", "R-PAT", territories=["T1"], tier=1)
        .opportunity("OPP-123", "A-PIPE", "R-PAT", 50_000)
        .account("A-TIER3", "R-PAT", territories=["T1"], tier=3)
        .account("A-TIER3-NOWHERE", "R-PAT", tier=3)
        .account("A-UNOWNED", territories=["T1"])
        .account("A-OTHER-LEAVER", "R-ELSE", territories=["T1"], tier=1)
        .lead("L-PAT", "R-PAT", territories=["T1"])
    )
    for i in range(10):
        org.account(f"A-REST-{i}", "R-PAT", territories=["T1"], tier=1)
    return org


def test_departure_decides_only_the_leavers_book() -> None:
    result = _leaver_org().route(mode="departure", leavers=("R-PAT",))
    decided = set(result.decisions["record_id"])
    assert "A-UNOWNED" not in decided
    assert "A-OTHER-LEAVER" not in decided
    assert decided == {"A-PIPE", "A-TIER3", "A-TIER3-NOWHERE", "L-PAT"} | {
        f"A-REST-{i}" for i in range(10)
    }
    assert set(result.decisions["previous_owner_id"]) == {"R-PAT"}


def test_departure_pipeline_pool_and_balanced_rest() -> None:
    result = _leaver_org().route(mode="departure", leavers=("R-PAT",))
    pipe = decision(result, "A-PIPE")
    assert (pipe["rule"], pipe["owner_id"], pipe["queue"]) == ("manager_review", "R-PAT", None)
    assert pipe["rationale"] == (
        "Owner Pat Leaver left; account has open pipeline (OPP-123), kept for manager review."
    )
    pool = decision(result, "A-TIER3")
    assert (pool["rule"], pool["owner_id"], pool["queue"], pool["territory_id"]) == (
        "territory_pool",
        None,
        "pool:T1",
        "T1",
    )
    nowhere = decision(result, "A-TIER3-NOWHERE")
    assert (nowhere["rule"], nowhere["queue"]) == ("territory_pool", "fallback-queue")

    rest = result.decisions.filter(pl.col("record_id").str.starts_with("A-REST"))
    assert set(rest["rule"]) == {"territory"}
    counts = Counter(rest["owner_id"])
    assert set(counts) == {"R-X", "R-Y", "R-Z"}  # never back to the leaver
    assert max(counts.values()) - min(counts.values()) <= 1
    assert decision(result, "L-PAT")["owner_id"] in {"R-X", "R-Y", "R-Z"}


@pytest.mark.parametrize("availability", ["available", "on_leave", "terminated"])
def test_named_leaver_counts_as_terminated_whatever_hr_says(availability: str) -> None:
    result = _leaver_org(availability).route(mode="departure", leavers=("R-PAT",))
    assert decision(result, "A-PIPE")["rule"] == "manager_review"
    moved = result.decisions.filter(pl.col("rule") != "manager_review")
    assert "R-PAT" not in set(moved["owner_id"].drop_nulls())
    assert moved.height == 13


def test_hourly_run_redistributes_a_terminated_owner_on_its_own() -> None:
    result = _leaver_org("terminated").route()
    assert decision(result, "A-PIPE")["rule"] == "manager_review"
    assert decision(result, "A-TIER3")["rule"] == "territory_pool"
    assert decision(result, "A-OTHER-LEAVER")["rule"] == "territory"
    assert decision(result, "A-UNOWNED")["rule"] == "territory"


def test_redistribution_switches() -> None:
    config = config_with(redistribution={"manager_review_open_pipeline": False, "pool_tiers": []})
    result = _leaver_org("terminated").route(config)
    # Without manager review the opportunity owner (the leaver) is unavailable: territory.
    assert decision(result, "A-PIPE")["rule"] == "territory"
    assert decision(result, "A-TIER3")["rule"] == "territory"


def test_departure_needs_a_leaver() -> None:
    with pytest.raises(ValueError, match="leaver"):
        _leaver_org().route(mode="departure")


def _plan_change() -> Org:
    """R-OLD owns accounts that now match only T-NEW (where R-NEW works)."""
    return (
        Org()
        .rep("R-OLD", "Olga Old", index=20.0)
        .rep("R-NEW", "Ned New", index=20.0)
        .territory("T-OLD", ["R-OLD"], name="Old Plan")
        .territory("T-NEW", ["R-NEW"], name="New Plan")
        .account("A-MOVED", "R-OLD", territories=["T-NEW"])
        .account("A-STAYS", "R-OLD", territories=["T-OLD", "T-NEW"])
        .account("A-NAMED", "R-OLD", territories=["T-NEW"])
        .name("A-NAMED", "R-OLD")
        .account("A-PARENT-NAMED", "R-OLD", parent="A-NAMED", territories=["T-NEW"])
        .account("A-PIPELINE", "R-OLD", territories=["T-NEW"])
        .opportunity("O1", "A-PIPELINE", "R-OLD")
        .account("A-NOWHERE", "R-OLD")
    )


def test_territory_change_moves_accounts_outside_their_owners_territories() -> None:
    result = _plan_change().route(mode="territory_change")
    assert result.decisions["record_id"].to_list() == ["A-MOVED"]
    moved = decision(result, "A-MOVED")
    assert (moved["rule"], moved["owner_id"], moved["previous_owner_id"]) == (
        "territory",
        "R-NEW",
        "R-OLD",
    )
    assert moved["rationale"].startswith(
        "Owner Olga Old is outside every territory the account now matches; routed by "
        "territory New Plan to Ned New"
    )


def test_hourly_run_never_repairs_outside_territory() -> None:
    assert _plan_change().route().decisions.is_empty()


def test_hourly_run_repairs_outside_territory_when_routing_yml_lists_it() -> None:
    config = RoutingConfig.model_validate(
        {**RoutingConfig().model_dump(), "hourly_repairs": ["unowned", "outside_territory"]}
    )
    result = _plan_change().route(config)
    assert result.decisions["record_id"].to_list() == ["A-MOVED"]
    assert decision(result, "A-MOVED")["owner_id"] == "R-NEW"
