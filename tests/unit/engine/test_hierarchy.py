"""The rule hierarchy: each rule fires, routing.yml order and on/off are honoured."""

from __future__ import annotations

import pytest

from .conftest import Org, config_with, decision


def _base() -> Org:
    """Two available reps in one territory, a third outside it, a named-account owner."""
    return (
        Org()
        .rep("R-TERR", "Terry Territory", index=10)
        .rep("R-OPP", "Olive Opportunity", index=50)
        .rep("R-NAMED", "Nina Named", index=50)
        .rep("R-ACCT", "Andy Account", index=50)
        .territory("T1", ["R-TERR"], name="NA Mid-Market")
    )


def test_open_opportunity_owner_wins() -> None:
    org = _base().account("A1", territories=["T1"]).opportunity("O1", "A1", "R-OPP", 180_000)
    row = decision(org.route(), "A1")
    assert (row["rule"], row["owner_id"], row["queue"]) == ("open_opportunity", "R-OPP", None)
    assert row["rationale"].startswith("Open opportunity O1 ($180K) is owned by Olive Opportunity")


def test_open_opportunity_prefers_largest_then_earliest_then_id() -> None:
    org = (
        _base()
        .rep("R-BIG", "Bea Big")
        .account("A1", territories=["T1"])
        .opportunity("O-SMALL", "A1", "R-OPP", 1_000)
        .opportunity("O-BIG", "A1", "R-BIG", 90_000)
    )
    assert decision(org.route(), "A1")["owner_id"] == "R-BIG"


def test_open_opportunity_of_unavailable_owner_is_skipped() -> None:
    org = (
        _base()
        .rep("R-GONE", availability="terminated")
        .account("A1", territories=["T1"])
        .opportunity("O-BIG", "A1", "R-GONE", 900_000)
        .opportunity("O-SMALL", "A1", "R-OPP", 1_000)
    )
    assert decision(org.route(), "A1")["owner_id"] == "R-OPP"


def test_named_account_and_named_parent() -> None:
    org = (
        _base()
        .account("PARENT", "R-NAMED", name="Globex Holdings")
        .account("SELF", territories=["T1"])
        .account("CHILD", parent="PARENT", territories=["T1"])
        .account("GRANDCHILD", parent="CHILD", ultimate="PARENT", territories=["T1"])
        .name("PARENT", "R-NAMED")
        .name("SELF", "R-NAMED")
    )
    result = org.route()
    assert decision(result, "SELF")["rule"] == "named_account"
    child = decision(result, "CHILD")
    assert (child["rule"], child["owner_id"]) == ("named_parent", "R-NAMED")
    assert (
        "Parent account Globex Holdings is a named account assigned to Nina Named"
        in (child["rationale"])
    )
    grandchild = decision(result, "GRANDCHILD")
    assert (grandchild["rule"], grandchild["owner_id"]) == ("named_parent", "R-NAMED")


def test_nearest_named_ancestor_wins() -> None:
    org = (
        _base()
        .rep("R-TOP", "Tom Top")
        .account("TOP", "R-TOP")
        .account("MID", "R-NAMED", parent="TOP")
        .account("LEAF", parent="MID", ultimate="TOP", territories=["T1"])
        .name("TOP", "R-TOP")
        .name("MID", "R-NAMED")
    )
    assert decision(org.route(), "LEAF")["owner_id"] == "R-NAMED"


def test_named_owner_on_leave_falls_through() -> None:
    org = (
        _base()
        .rep("R-AWAY", availability="on_leave")
        .account("A1", territories=["T1"])
        .name("A1", "R-AWAY")
    )
    row = decision(org.route(), "A1")
    assert (row["rule"], row["owner_id"]) == ("territory", "R-TERR")


def test_lead_goes_to_matched_account_owner() -> None:
    org = (
        _base()
        .account("ACME", "R-ACCT", name="Acme")
        .lead("L1", account="ACME", territories=["T1"])
    )
    row = decision(org.route(), "L1")
    assert (row["record_type"], row["rule"], row["owner_id"]) == ("lead", "account_owner", "R-ACCT")
    assert row["rationale"] == "Lead matched account Acme by domain, owned by Andy Account."


def test_account_owner_rule_does_not_apply_to_accounts() -> None:
    org = _base().account("A1", territories=["T1"])
    assert decision(org.route(), "A1")["rule"] == "territory"


def test_territory_overflow_and_fallback() -> None:
    org = (
        _base()
        .rep("R-FULL", index=100)
        .territory("T-FULL", ["R-FULL"], queue="full-team-queue")
        .territory("T-NOBODY", [])
        .account("A-TERR", territories=["T1"])
        .account("A-FULL", territories=["T-FULL"])
        .account("A-EMPTY", territories=["T-NOBODY"])
        .account("A-NONE")
    )
    result = org.route()
    terr = decision(result, "A-TERR")
    assert (terr["rule"], terr["owner_id"], terr["territory_id"]) == ("territory", "R-TERR", "T1")
    full = decision(result, "A-FULL")
    assert (full["rule"], full["owner_id"], full["queue"]) == (
        "overflow_queue",
        None,
        "full-team-queue",
    )
    empty = decision(result, "A-EMPTY")
    assert (empty["rule"], empty["queue"], empty["territory_id"]) == (
        "overflow_queue",
        "overflow:T-NOBODY",
        "T-NOBODY",
    )
    none = decision(result, "A-NONE")
    assert (none["rule"], none["owner_id"], none["queue"], none["territory_id"]) == (
        "fallback_queue",
        None,
        "fallback-queue",
        None,
    )


def _rules(*disabled: str, order: tuple[str, ...] | None = None) -> list[dict[str, object]]:
    names = order or (
        "open_opportunity",
        "named_account",
        "account_owner",
        "territory",
        "overflow_queue",
        "fallback_queue",
    )
    return [{"name": n, "enabled": n not in disabled} for n in names]


def _contested() -> Org:
    """One account that every rule has an answer for."""
    return (
        _base()
        .account("A1", territories=["T1"])
        .opportunity("O1", "A1", "R-OPP")
        .name("A1", "R-NAMED")
    )


@pytest.mark.parametrize(
    ("rules", "rule", "owner"),
    [
        (_rules(), "open_opportunity", "R-OPP"),
        (_rules("open_opportunity"), "named_account", "R-NAMED"),
        (_rules("open_opportunity", "named_account"), "territory", "R-TERR"),
        (_rules("open_opportunity", "named_account", "territory"), "overflow_queue", None),
        (
            _rules("open_opportunity", "named_account", "territory", "overflow_queue"),
            "fallback_queue",
            None,
        ),
        (
            _rules(
                order=(
                    "territory",
                    "named_account",
                    "open_opportunity",
                    "account_owner",
                    "overflow_queue",
                    "fallback_queue",
                )
            ),
            "territory",
            "R-TERR",
        ),
        (
            _rules(
                order=(
                    "named_account",
                    "open_opportunity",
                    "account_owner",
                    "territory",
                    "overflow_queue",
                    "fallback_queue",
                )
            ),
            "named_account",
            "R-NAMED",
        ),
    ],
)
def test_rule_order_and_switches_come_from_config(
    rules: list[dict[str, object]], rule: str, owner: str | None
) -> None:
    row = decision(_contested().route(config_with(rules=rules)), "A1")
    assert (row["rule"], row["owner_id"]) == (rule, owner)


def test_overflow_listed_before_territory_still_follows_it() -> None:
    rules = _rules(
        order=(
            "overflow_queue",
            "open_opportunity",
            "named_account",
            "account_owner",
            "territory",
            "fallback_queue",
        )
    )
    org = _base().account("A1", territories=["T1"])
    assert decision(org.route(config_with(rules=rules)), "A1")["rule"] == "territory"


def test_rules_after_territory_catch_what_it_cannot_place() -> None:
    rules = _rules(
        order=(
            "territory",
            "open_opportunity",
            "named_account",
            "account_owner",
            "overflow_queue",
            "fallback_queue",
        )
    )
    org = (
        _base()
        .rep("R-FULL", index=120)
        .territory("T-FULL", ["R-FULL"])
        .account("A1", territories=["T-FULL"])
        .opportunity("O1", "A1", "R-OPP")
    )
    row = decision(org.route(config_with(rules=rules)), "A1")
    assert (row["rule"], row["owner_id"]) == ("open_opportunity", "R-OPP")


@pytest.mark.parametrize(
    ("availability", "decided", "reason"),
    [
        ("available", False, None),
        ("on_leave", False, None),
        ("terminated", True, "left"),
        ("deactivated", True, "was deactivated in the CRM"),
        ("role_change", True, "moved to a role that carries no accounts"),
        ("not_in_hr", True, "is missing from the HR snapshot"),
    ],
)
def test_who_needs_an_owner(availability: str, decided: bool, reason: str | None) -> None:
    org = (
        _base()
        .rep("R-OWNER", "Olly Owner", availability=availability)
        .account("A1", "R-OWNER", territories=["T1"], tier=1)
    )
    result = org.route()
    assert (result.decisions.height == 1) is decided
    if decided:
        row = decision(result, "A1")
        assert row["previous_owner_id"] == "R-OWNER"
        assert row["rationale"].startswith(f"Owner Olly Owner {reason}; routed by territory")


def test_unknown_owner_and_unowned_records_are_routed() -> None:
    org = _base().account("A-GHOST", "R-GHOST", territories=["T1"]).lead("L-NEW")
    result = org.route()
    ghost = decision(result, "A-GHOST")
    assert ghost["rationale"].startswith("Owner R-GHOST is not a known rep; routed by")
    lead = decision(result, "L-NEW")
    assert (lead["rule"], lead["previous_owner_id"]) == ("fallback_queue", None)


def test_hourly_repairs_list_limits_what_is_decided() -> None:
    org = (
        _base()
        .rep("R-GONE", availability="terminated")
        .account("A-GONE", "R-GONE", territories=["T1"], tier=1)
        .account("A-NEW", territories=["T1"])
    )
    result = org.route(config_with(hourly_repairs=["unowned"]))
    assert result.decisions["record_id"].to_list() == ["A-NEW"]


def test_rep_on_leave_keeps_book_but_gets_nothing_new() -> None:
    org = (
        Org()
        .rep("R-LEAVE", "Lee Leave", availability="on_leave", index=0)
        .rep("R-SAM", "Sam Lee", index=62)
        .territory("T1", ["R-LEAVE", "R-SAM"], name="NA-West Mid-Market")
        .account("A-BOOK", "R-LEAVE", territories=["T1"])
        .account("A-NEW", territories=["T1"])
    )
    result = org.route()
    assert result.decisions["record_id"].to_list() == ["A-NEW"]
    row = decision(result, "A-NEW")
    assert row["owner_id"] == "R-SAM"
    assert row["rationale"] == (
        "Routed by territory NA-West Mid-Market to Sam Lee (lightest available member, "
        "index 62); Lee Leave (on leave) skipped."
    )
