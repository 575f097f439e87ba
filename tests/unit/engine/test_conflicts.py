"""Conflicts are logged whatever rule won, one row per (record, conflict type)."""

from __future__ import annotations

import polars as pl

from .conftest import Org, config_with, decision


def _conflicts(result: object, record_id: str) -> dict[str, dict[str, object]]:
    rows = result.conflicts.filter(pl.col("record_id") == record_id).to_dicts()  # type: ignore[attr-defined]
    return {row["conflict_type"]: row for row in rows}


def _candidate(
    rule: str, territory_id: str | None, owner_id: str | None, queue: str | None = None
) -> dict[str, str | None]:
    return {"rule": rule, "territory_id": territory_id, "owner_id": owner_id, "queue": queue}


def _acme() -> Org:
    """The design's field example: a California lead of Acme, whose NY account has pipeline."""
    return (
        Org()
        .rep("R-SAM", "Sam West", index=40.0)
        .rep("R-DANA", "Dana East", index=40.0)
        .territory("T-WEST", ["R-SAM"], name="NA-West Enterprise", priority=1)
        .territory("T-EAST", ["R-DANA"], name="NA-East Enterprise", priority=2)
        .account("ACME", "R-DANA", territories=["T-EAST"], name="Acme Corp")
        .opportunity("OPP-ACME-1", "ACME", "R-DANA", 180_000)
        .lead("L-ACME", account="ACME", territories=["T-WEST"], account_territories=["T-EAST"])
    )


def test_acme_lead_goes_to_opportunity_owner_with_multi_territory_conflict() -> None:
    result = _acme().route()
    row = decision(result, "L-ACME")
    assert (row["rule"], row["owner_id"], row["conflict"]) == ("open_opportunity", "R-DANA", True)
    assert row["rationale"] == (
        "Open opportunity OPP-ACME-1 ($180K) is owned by Dana East; lead matched "
        "NA-East Enterprise by account and NA-West Enterprise by address."
    )
    conflicts = _conflicts(result, "L-ACME")
    assert set(conflicts) == {"multi_territory"}
    multi = conflicts["multi_territory"]
    assert (multi["resolution"], multi["owner_id"], multi["queue"]) == (
        "open_opportunity",
        "R-DANA",
        None,
    )
    # The opportunity territory wins the tiebreak, so it is listed first.
    assert multi["candidates"] == [
        _candidate("territory", "T-EAST", "R-DANA"),
        _candidate("territory", "T-WEST", "R-SAM"),
    ]
    assert "NA-West Enterprise by address (Sam West)" in multi["rationale"]


def test_tiebreak_order_comes_from_config() -> None:
    """Without opportunity_territory first, priority decides: West wins the Acme lead."""
    rules = [{"name": "territory"}, {"name": "overflow_queue"}, {"name": "fallback_queue"}]
    default = decision(_acme().route(config_with(rules=rules)), "L-ACME")
    assert (default["rule"], default["territory_id"], default["owner_id"]) == (
        "territory",
        "T-EAST",
        "R-DANA",
    )
    config = config_with(rules=rules, territory_tiebreak=["priority", "opportunity_territory"])
    row = decision(_acme().route(config), "L-ACME")
    assert (row["territory_id"], row["owner_id"]) == ("T-WEST", "R-SAM")


def test_no_multi_territory_conflict_when_the_territories_agree() -> None:
    org = (
        Org()
        .rep("R-BOTH", index=10.0)
        .territory("T1", ["R-BOTH"], priority=1)
        .territory("T2", ["R-BOTH"], priority=2)
        .account("A1", territories=["T1", "T2"])
    )
    result = org.route()
    assert result.conflicts.is_empty()
    row = decision(result, "A1")
    assert (row["territory_id"], row["conflict"]) == ("T1", False)


def test_tiebreak_priority_then_specificity_then_id() -> None:
    org = (
        Org()
        .rep("R1", index=10.0)
        .rep("R2", index=10.0)
        .rep("R3", index=10.0)
        .territory("T-B", ["R1"], priority=2, specificity=3)
        .territory("T-C", ["R2"], priority=1, specificity=1)
        .territory("T-A", ["R3"], priority=1, specificity=2)
        .territory("T-D", ["R3"], priority=1, specificity=2)
        .account("A1", territories=["T-B", "T-C", "T-A", "T-D"])
    )
    result = org.route()
    assert decision(result, "A1")["territory_id"] == "T-A"
    candidates = _conflicts(result, "A1")["multi_territory"]["candidates"]
    assert [c["territory_id"] for c in candidates] == ["T-A", "T-D", "T-C", "T-B"]


def test_full_territories_sharing_one_queue_agree() -> None:
    org = (
        Org()
        .rep("R1", index=100.0)
        .rep("R2", index=120.0)
        .territory("T1", ["R1"], queue="shared-q")
        .territory("T2", ["R2"], queue="shared-q")
        .account("A1", territories=["T1", "T2"])
    )
    result = org.route()
    assert decision(result, "A1")["queue"] == "shared-q"
    assert result.conflicts.is_empty()


def test_overflowing_territory_counts_as_a_different_pick() -> None:
    org = (
        Org()
        .rep("R1", index=10.0)
        .rep("R-FULL", index=100.0)
        .territory("T1", ["R1"], priority=2)
        .territory("T-FULL", ["R-FULL"], priority=1, queue="q-full")
        .account("A1", territories=["T1", "T-FULL"])
    )
    result = org.route()
    row = decision(result, "A1")
    assert (row["rule"], row["queue"]) == ("overflow_queue", "q-full")
    assert _conflicts(result, "A1")["multi_territory"]["candidates"] == [
        _candidate("territory", "T-FULL", None, "q-full"),
        _candidate("territory", "T1", "R1"),
    ]


def test_named_subsidiary() -> None:
    org = (
        Org()
        .rep("R-NAMED", "Nina Named", index=50.0)
        .rep("R-TERR", "Terry", index=10.0)
        .territory("T1", ["R-TERR"], name="Mid-Market")
        .account("GLOBEX", "R-NAMED", name="Globex Holdings")
        .name("GLOBEX", "R-NAMED")
        .account("GLOBEX-UK", parent="GLOBEX", territories=["T1"])
    )
    result = org.route()
    row = decision(result, "GLOBEX-UK")
    assert (row["rule"], row["owner_id"], row["conflict"]) == ("named_parent", "R-NAMED", True)
    conflict = _conflicts(result, "GLOBEX-UK")["named_subsidiary"]
    assert conflict["candidates"] == [
        _candidate("named_parent", None, "R-NAMED"),
        _candidate("territory", "T1", "R-TERR"),
    ]
    assert conflict["rationale"] == (
        "Parent account Globex Holdings is named to Nina Named, but territory Mid-Market picks "
        "Terry; resolved by named_parent to Nina Named."
    )


def test_named_account_itself_is_no_subsidiary_conflict() -> None:
    org = (
        Org()
        .rep("R-NAMED", index=50.0)
        .rep("R-TERR", index=10.0)
        .territory("T1", ["R-TERR"])
        .account("GLOBEX", name="Globex")
        .name("GLOBEX", "R-NAMED")
        .account("GLOBEX-UK", parent="GLOBEX", territories=["T1"])
        .name("GLOBEX-UK", "R-NAMED")
    )
    result = org.route()
    assert decision(result, "GLOBEX-UK")["rule"] == "named_account"
    assert result.conflicts.is_empty()


def test_pipeline_owner_mismatch() -> None:
    org = (
        Org()
        .rep("R-OPP", "Olive", index=50.0)
        .rep("R-OPP2", "Otto", index=50.0)
        .rep("R-TERR", "Terry", index=10.0)
        .territory("T1", ["R-TERR"], name="Mid-Market")
        .account("A1", territories=["T1"])
        .opportunity("O-BIG", "A1", "R-OPP", 90_000)
        .opportunity("O-SMALL", "A1", "R-OPP2", 10)
    )
    result = org.route()
    row = decision(result, "A1")
    assert (row["rule"], row["owner_id"], row["conflict"]) == ("open_opportunity", "R-OPP", True)
    conflict = _conflicts(result, "A1")["pipeline_owner_mismatch"]
    assert conflict["candidates"] == [
        _candidate("open_opportunity", None, "R-OPP"),
        _candidate("open_opportunity", None, "R-OPP2"),
        _candidate("territory", "T1", "R-TERR"),
    ]
    assert conflict["resolution"] == "open_opportunity"
    assert conflict["rationale"].startswith(
        "Open opportunity O-BIG is owned by Olive (and 1 other owners), unlike territory "
        "Mid-Market's pick Terry"
    )


def test_opportunity_owner_in_the_territory_is_no_conflict() -> None:
    org = (
        Org()
        .rep("R-OPP", index=90.0)
        .rep("R-TERR", index=10.0)
        .territory("T1", ["R-OPP", "R-TERR"])
        .account("A1", territories=["T1"])
        .opportunity("O1", "A1", "R-OPP")
        .account("A2", territories=["T1"])
    )
    result = org.route()
    # A1: opportunity owner wins; the territory's own pick (R-TERR) differs: a conflict.
    assert set(_conflicts(result, "A1")) == {"pipeline_owner_mismatch"}
    assert decision(result, "A2")["conflict"] is False


def test_conflict_flag_matches_conflict_rows() -> None:
    result = _acme().account("PLAIN", territories=["T-WEST"]).route()
    flagged = set(result.decisions.filter(pl.col("conflict"))["record_id"])
    assert flagged == set(result.conflicts["record_id"]) == {"L-ACME"}
