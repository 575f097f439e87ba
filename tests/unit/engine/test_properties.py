"""Properties of route() over random small orgs (hypothesis).

What the engine guarantees, and what is asserted here:

* exactly one decision per record that needs an owner in the run's mode, none for others;
* no decision names an unavailable owner, except manager_review (owner kept on purpose);
* no territory overflows while one of its members that was eligible at the start still
  sits below high water, and no rep takes a territory record at or above high water,
  whichever of its territories hands it out;
* balance. Placement orders a member's slots by ``index at the start of the pass + k *
  delta / weight`` (weight = share of new records). When rep r took its last record x
  from territory T, every eligible teammate s was at high water or its next slot was no
  cheaper than r's. Indexes only grow during a run, so for ``weight_r <= 1 <= weight_s``
  the outputs must satisfy ``final_s >= high_water`` or ``final_s + d_s / w_s >= start_r
  + load r took from T`` (d = one record of x's type). With equal weights and one record
  worth at most ``high_water - release`` index points this is the design's check:
  nobody is pushed to high water by a territory while an eligible teammate ends below
  release. (Between unequal weights the heavier member is meant to run ahead.)
* a lead whose matched account the run decides (other than a manager review) takes that
  account's new owner or queue by account_owner, unless open_opportunity or a named rule
  gives it an owner first; a lead following an account the territory placed counts on the
  new owner after that placement, not before it;
* the conflicts are exactly those rebuilt here from the inputs (conflicts.py semantics),
  a following lead's account owner being the one its account is given;
* the same inputs in any row order give the same outputs; rule values are schema.RULES;
  ``conflict`` is true exactly for the records with conflict rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from switchboard.engine import EngineResult
from switchboard.engine.schema import RULES

from .route_cases import (
    CONFIG,
    HIGH,
    INVALID,
    RELEASE,
    Case,
    _deltas,
    _run,
    cases,
    check_capacity,
    check_followers,
    earlier_load,
    followed,
)


def _problem(owner: str | None, reps: dict[str, dict[str, Any]], leavers: set[str]) -> str | None:
    if owner is None:
        return "unowned"
    if owner not in reps:
        return "unknown_owner"
    if owner in leavers:
        return "terminated"
    availability = reps[owner]["availability"]
    return availability if availability in INVALID else None


def expected_records(case: Case) -> set[tuple[str, str]]:
    """Which records need an owner, written out independently of the engine."""
    org, leavers = case.org, set(case.leavers)
    reps = {r["rep_id"]: r for r in org.reps}
    repairs = set(CONFIG.hourly_repairs)
    named = {n["account_id"]: n["owner_id"] for n in org.named}
    members = defaultdict(set)
    for m in org.members:
        members[m["territory_id"]].add(m["rep_id"])
    own_matches = defaultdict(set)
    for m in org.matches:
        if m["record_type"] == "account" and m["match_source"] == "record":
            own_matches[m["record_id"]].add(m["territory_id"])
    by_id = {a["account_id"]: a for a in org.accounts}
    opportunity_owners = defaultdict(set)
    for o in org.opportunities:
        opportunity_owners[o["account_id"]].add(o["owner_id"])

    def selected(record_type: str, row: dict[str, Any], record_id: str) -> bool:
        owner = row["owner_id"]
        problem = _problem(owner, reps, leavers)
        if case.mode == "departure":
            return owner in leavers
        listed = "unknown_owner" if problem == "not_in_hr" else problem
        if listed in repairs:
            return True
        if case.mode != "territory_change" or record_type != "account" or problem:
            return False
        territories = own_matches[record_id]
        chain = [record_id, row["parent_account_id"], row["ultimate_parent_account_id"]]
        pinned = any(named.get(a) == owner for a in chain if a) or (
            owner in opportunity_owners[record_id]
        )
        inside = any(owner in members[t] for t in territories)
        return bool(territories) and not inside and not pinned

    wanted = {
        ("account", a["account_id"])
        for a in org.accounts
        if selected("account", a, a["account_id"])
    }
    wanted |= {
        ("lead", lead["lead_id"]) for lead in org.leads if selected("lead", lead, lead["lead_id"])
    }
    assert all(k[1] in by_id or k[0] == "lead" for k in wanted)
    return wanted


def expected_conflicts(case: Case, result: EngineResult) -> set[tuple[str, str, str]]:
    """(record_type, record_id, conflict_type) rebuilt from the inputs and the decisions."""
    org, leavers = case.org, set(case.leavers)
    reps = {r["rep_id"]: r for r in org.reps}
    work = {w["rep_id"]: w for w in org.workload}
    state = {s["rep_id"]: s for s in org.state}
    accounts = {a["account_id"]: a for a in org.accounts}
    named = {n["account_id"]: n["owner_id"] for n in org.named}
    pipeline = defaultdict(set)
    for o in org.opportunities:
        pipeline[o["account_id"]].add(o["owner_id"])
    decisions = result.decisions.to_dicts()
    earlier = earlier_load(case, decisions)
    follows = followed(case, decisions)
    teams: dict[str, dict[str, float]] = defaultdict(dict)
    for m in org.members:
        teams[m["territory_id"]][m["rep_id"]] = m["weight"]

    def start_pick(territory_id: str, record_type: str) -> str:
        best: tuple[float, int, str] | None = None
        for r, weight in teams[territory_id].items():
            index = work[r]["workload_index"] + earlier[r]
            prev = state.get(r, {})
            if (
                reps[r]["availability"] != "available"
                or r in leavers
                or weight <= 0
                or (prev.get("is_overflowing") and work[r]["workload_index"] >= RELEASE)
                or index >= HIGH
            ):
                continue
            key = (
                index + _deltas(reps[r], work[r])[record_type] / weight,
                prev.get("rr_position", 0),
                r,
            )
            best = key if best is None or key < best else best
        if best:
            return best[2]
        return org.territories[territory_id]["overflow_queue"] or f"queue:{territory_id}"

    def tiebreak(territory_id: str, account_key: str | None) -> tuple[int, int, int, str]:
        attrs = org.territories[territory_id]
        member_owns = any(o in teams[territory_id] for o in pipeline.get(account_key, ()))
        return (0 if member_owns else 1, attrs["priority"], -attrs["specificity"], territory_id)

    found = set()
    for d in decisions:
        kind, rid = d["record_type"], d["record_id"]
        sources = {"record"} if kind == "account" else {"record", "account"}
        matched = {
            m["territory_id"]
            for m in org.matches
            if m["record_type"] == kind and m["record_id"] == rid and m["match_source"] in sources
        }
        if kind == "account":
            key, owner = rid, d["previous_owner_id"]
        elif rid in follows:
            key, owner = follows[rid]["record_id"], follows[rid]["owner_id"]
        else:
            key = next(x["matched_account_id"] for x in org.leads if x["lead_id"] == rid)
            owner = accounts[key]["owner_id"] if key in accounts else None
        picks = {start_pick(t, kind) for t in matched}
        if len(picks) >= 2:
            found.add((kind, rid, "multi_territory"))
        win = min(matched, key=lambda t: tiebreak(t, key)) if matched else None
        if d["rule"] == "territory":
            pick = d["owner_id"]
        elif d["rule"] == "overflow_queue" or win is None:
            pick = None
        else:
            candidate = start_pick(win, kind)
            pick = candidate if candidate in reps else None
        row = accounts.get(key, {})
        parents = [
            a
            for a in (row.get("parent_account_id"), row.get("ultimate_parent_account_id"))
            if a and a != key and a in named
        ]
        if key not in named and parents:
            boss = named[parents[0]]
            if (owner and owner != boss) or (pick and pick != boss):
                found.add((kind, rid, "named_subsidiary"))
        holders = {o for o in pipeline.get(key, ()) if o is not None}
        if any((owner and o != owner) or (pick and o != pick) for o in holders):
            found.add((kind, rid, "pipeline_owner_mismatch"))
    return found


@settings(max_examples=60, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_route_properties(case: Case, seed: int) -> None:
    frames = case.org.frames()
    result = _run(case, frames)
    decisions = result.decisions

    # One decision per record that needs an owner, none for the others.
    keys = list(zip(decisions["record_type"], decisions["record_id"], strict=True))
    assert len(keys) == len(set(keys))
    assert set(keys) == expected_records(case)

    # Nobody unavailable is handed a record; manager review keeps the previous owner.
    available = {
        r["rep_id"]
        for r in case.org.reps
        if r["availability"] == "available" and r["rep_id"] not in case.leavers
    }
    for row in decisions.to_dicts():
        assert (row["owner_id"] is None) != (row["queue"] is None)
        if row["rule"] == "manager_review":
            assert row["owner_id"] == row["previous_owner_id"]
        elif row["owner_id"] is not None:
            assert row["owner_id"] in available, row

    assert set(decisions["rule"]) <= set(RULES)
    conflicted = set(
        zip(result.conflicts["record_type"], result.conflicts["record_id"], strict=True)
    )
    flagged = set(
        zip(
            decisions.filter(pl.col("conflict"))["record_type"],
            decisions.filter(pl.col("conflict"))["record_id"],
            strict=True,
        )
    )
    assert conflicted == flagged
    assert result.conflicts.select("record_id", "conflict_type").is_unique().all()
    resolution = dict(zip(keys, decisions["rule"], strict=True))
    for row in result.conflicts.to_dicts():
        assert row["resolution"] == resolution[(row["record_type"], row["record_id"])]

    check_capacity(case, result)
    check_followers(case, result)
    logged = set(
        zip(
            result.conflicts["record_type"],
            result.conflicts["record_id"],
            result.conflicts["conflict_type"],
            strict=True,
        )
    )
    assert logged == expected_conflicts(case, result)

    # Row order of the inputs does not matter.
    shuffled = {n: f.sample(fraction=1.0, shuffle=True, seed=seed) for n, f in frames.items()}
    again = _run(case, shuffled)
    assert_frame_equal(again.decisions, result.decisions)
    assert_frame_equal(again.conflicts, result.conflicts)
    assert_frame_equal(again.rep_state, result.rep_state)
