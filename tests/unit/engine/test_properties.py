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
from dataclasses import dataclass
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from switchboard.config import RoutingConfig
from switchboard.engine import EngineInputs, EngineResult, route
from switchboard.engine.schema import RULES
from switchboard.plans import plan_for

from .conftest import AS_OF, Org

CONFIG = RoutingConfig()
HIGH, RELEASE = CONFIG.workload.high_water, CONFIG.workload.release
W = CONFIG.workload.weights
EPS = 1e-9
AVAILABILITY = ["available"] * 8 + [
    "on_leave",
    "terminated",
    "deactivated",
    "role_change",
    "not_in_hr",
]
INVALID = {"terminated", "deactivated", "role_change", "not_in_hr"}
EARLIER_RULES = {"open_opportunity", "named_account", "named_parent", "account_owner"}


@dataclass
class Case:
    org: Org
    mode: str
    leavers: tuple[str, ...]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    org = Org()
    rep_ids = [f"R{i}" for i in range(draw(st.integers(1, 7)))]
    for rep_id in rep_ids:
        org.rep(
            rep_id,
            availability=draw(st.sampled_from(AVAILABILITY)),
            # Mostly near the marks, where hysteresis and overflow decide.
            index=draw(
                st.sampled_from(
                    [0.0, 10.0, 30.0, 60.0, 80.0, 88.0, 92.0, 94.0, 96.0, 99.5, 100.0, 110.0]
                )
            )
            + draw(st.sampled_from([0.0, 0.3])),
            capacity=draw(st.sampled_from([20.0, 50.0, 100.0, 200.0])),
            overflowing=draw(st.booleans()),
            rr=draw(st.integers(0, 3)),
        )
    territory_ids = [f"T{i}" for i in range(draw(st.integers(1, 4)))]
    for territory_id in territory_ids:
        members = draw(st.lists(st.sampled_from(rep_ids), unique=True, max_size=5))
        org.territory(
            territory_id,
            {m: draw(st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0])) for m in members},
            priority=draw(st.integers(1, 3)),
            specificity=draw(st.integers(0, 3)),
            queue=draw(st.sampled_from([None, f"queue-{territory_id}"])),
        )
    owners = [None] * 6 + ["R-GHOST", *rep_ids]
    account_ids: list[str] = []
    matches: dict[str, list[str]] = {}
    for i in range(draw(st.integers(0, 30))):
        account_id = f"A{i:02d}"
        matches[account_id] = draw(
            st.lists(st.sampled_from(territory_ids), unique=True, max_size=3)
        )
        parent = draw(st.sampled_from([None, *account_ids])) if account_ids else None
        org.account(
            account_id,
            draw(st.sampled_from(owners)),
            territories=matches[account_id],
            tier=draw(st.sampled_from([None, 1, 2, 3])),
            parent=parent,
        )
        account_ids.append(account_id)
    for i in range(draw(st.integers(0, 12))):
        account = draw(st.sampled_from([None, *account_ids]))
        org.lead(
            f"L{i:02d}",
            draw(st.sampled_from([None, None, *rep_ids])),
            account=account,
            territories=draw(st.lists(st.sampled_from(territory_ids), unique=True, max_size=2)),
            account_territories=matches.get(account, []) if account else [],
        )
    if account_ids:
        for i in range(draw(st.integers(0, 6))):
            org.opportunity(
                f"O{i}",
                draw(st.sampled_from(account_ids)),
                draw(st.sampled_from(["R-GHOST", *rep_ids])),
                draw(st.sampled_from([1_000.0, 50_000.0])),
            )
        for account_id in draw(st.lists(st.sampled_from(account_ids), unique=True, max_size=3)):
            org.name(account_id, draw(st.sampled_from(rep_ids)))
    mode = draw(st.sampled_from(["hourly", "hourly", "departure", "territory_change"]))
    leavers = (draw(st.sampled_from(rep_ids)),) if mode == "departure" else ()
    return Case(org, mode, leavers)


@st.composite
def crowded_cases(draw: st.DrawFn) -> Case:
    """Few reps near high water shared by overlapping territories, many new records, some
    leads following new accounts: the situations where placement order, shared headroom
    and overflow decide."""
    org = Org()
    rep_ids = [f"R{i}" for i in range(draw(st.integers(1, 4)))]
    for rep_id in rep_ids:
        org.rep(
            rep_id,
            availability=draw(st.sampled_from(["available"] * 5 + ["on_leave"])),
            index=draw(st.sampled_from([60.0, 80.0, 88.0, 93.0, 95.5, 97.0, 99.0])),
            capacity=draw(st.sampled_from([20.0, 25.0, 50.0])),
            overflowing=draw(st.booleans()),
            rr=draw(st.integers(0, 2)),
        )
    territory_ids = [f"T{i}" for i in range(draw(st.integers(1, 3)))]
    for territory_id in territory_ids:
        members = draw(st.lists(st.sampled_from(rep_ids), unique=True, min_size=1))
        org.territory(
            territory_id,
            {m: draw(st.sampled_from([0.5, 1.0, 2.0])) for m in members},
            priority=draw(st.integers(1, 2)),
        )
    matches: dict[str, list[str]] = {}
    for i in range(draw(st.integers(1, 25))):
        matches[f"A{i:02d}"] = [draw(st.sampled_from(territory_ids))]
        org.account(f"A{i:02d}", territories=matches[f"A{i:02d}"])
    for i in range(draw(st.integers(0, 15))):
        # Some leads come with one of the new accounts and follow it.
        account = draw(st.sampled_from([None, None, *matches]))
        org.lead(
            f"L{i:02d}",
            account=account,
            territories=[draw(st.sampled_from(territory_ids))],
            account_territories=matches.get(account, []) if account else [],
        )
    return Case(org, "hourly", ())


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


def followed(case: Case, decisions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """lead_id -> the decision of the account it follows: its matched account, decided in
    this run other than by a manager review."""
    accounts = {
        d["record_id"]: d
        for d in decisions
        if d["record_type"] == "account" and d["rule"] != "manager_review"
    }
    decided_leads = {d["record_id"] for d in decisions if d["record_type"] == "lead"}
    return {
        lead["lead_id"]: accounts[lead["matched_account_id"]]
        for lead in case.org.leads
        if lead["lead_id"] in decided_leads and lead["matched_account_id"] in accounts
    }


def earlier_load(case: Case, decisions: list[dict[str, Any]]) -> dict[str, float]:
    """Per rep, what the rules before the territory gave it: counted before placement. A
    lead following an account the territory placed counts only after that placement."""
    reps = {r["rep_id"]: r for r in case.org.reps}
    work = {w["rep_id"]: w for w in case.org.workload}
    after_placement = {
        lead
        for lead, account in followed(case, decisions).items()
        if account["rule"] == "territory"
    }
    earlier: dict[str, float] = defaultdict(float)
    for d in decisions:
        if (
            d["rule"] in EARLIER_RULES
            and d["owner_id"] is not None
            and not (d["record_type"] == "lead" and d["record_id"] in after_placement)
        ):
            owner = d["owner_id"]
            earlier[owner] += _deltas(reps[owner], work[owner])[d["record_type"]]
    return earlier


def check_followers(case: Case, result: EngineResult) -> None:
    """A lead whose account the run decides ends where the account went."""
    decisions = result.decisions.to_dicts()
    by_id = {d["record_id"]: d for d in decisions if d["record_type"] == "lead"}
    for lead_id, account in followed(case, decisions).items():
        lead = by_id[lead_id]
        if lead["rule"] in ("open_opportunity", "named_account", "named_parent"):
            continue
        assert lead["rule"] == "account_owner", (lead, account)
        assert (lead["owner_id"], lead["queue"]) == (account["owner_id"], account["queue"])
        assert lead["rationale"].endswith(".") and account["record_id"] in lead["rationale"]


def _run(case: Case, frames: dict[str, pl.DataFrame]) -> EngineResult:
    return route(
        EngineInputs.from_frames(frames),
        CONFIG,
        run_id="p",
        as_of=AS_OF,
        selection=plan_for(case.mode).selection,
        leaver_rep_ids=case.leavers,
    )


def _deltas(rep: dict[str, Any], workload: dict[str, Any]) -> dict[str, float]:
    capacity = workload["capacity"]
    return {
        "account": 100.0 * (W.active_accounts + W.inbound_last_7d) / capacity,
        "lead": 100.0 * W.inbound_last_7d / capacity,
    }


def check_capacity(case: Case, result: EngineResult) -> None:
    """Overflow only when the territory is exhausted; the balance inequality (docstring)."""
    org, leavers = case.org, set(case.leavers)
    reps = {r["rep_id"]: r for r in org.reps}
    work = {w["rep_id"]: w for w in org.workload}
    state = {s["rep_id"]: s for s in org.state}
    delta = {r: _deltas(reps[r], work[r]) for r in reps}
    decisions = result.decisions.to_dicts()

    start = {r: work[r]["workload_index"] for r in reps}
    earlier = earlier_load(case, decisions)
    final = dict(start)
    for d in decisions:
        owner = d["owner_id"]
        if owner is None or d["rule"] == "manager_review":
            continue
        final[owner] += delta[owner][d["record_type"]]

    def eligible(rep_id: str, weight: float) -> bool:
        was_overflowing = state.get(rep_id, {}).get("is_overflowing", False)
        return (
            reps[rep_id]["availability"] == "available"
            and rep_id not in leavers
            and weight > 0
            and not (was_overflowing and start[rep_id] >= RELEASE)
            and start[rep_id] + earlier[rep_id] < HIGH
        )

    # Nobody takes a territory record at or above high water, across all its territories
    # (a shared rep's headroom is handed out once): the index before its last territory
    # record, at least the total minus one account's delta, is below high water.
    territory_load = defaultdict(float)
    for d in decisions:
        if d["rule"] == "territory":
            territory_load[d["owner_id"]] += delta[d["owner_id"]][d["record_type"]]
    for r, load in territory_load.items():
        assert start[r] + earlier[r] + load - delta[r]["account"] < HIGH + EPS, r

    weights: dict[str, dict[str, float]] = defaultdict(dict)
    for m in org.members:
        weights[m["territory_id"]][m["rep_id"]] = m["weight"]
    for territory_id, team in weights.items():
        ours = [d for d in decisions if d["territory_id"] == territory_id]
        teammates = [s for s, w in team.items() if eligible(s, w)]
        if any(d["rule"] == "overflow_queue" for d in ours):
            for s in teammates:
                assert final[s] >= HIGH - EPS, (territory_id, s, final[s])
        taken: dict[str, dict[str, int]] = defaultdict(lambda: {"account": 0, "lead": 0})
        for d in ours:
            if d["rule"] == "territory":
                taken[d["owner_id"]][d["record_type"]] += 1
        for r, counts in taken.items():
            assert eligible(r, team[r])
            last = "lead" if counts["lead"] else "account"
            load = sum(n * delta[r][t] for t, n in counts.items())
            reached = start[r] + earlier[r] + load
            for s in teammates:
                if s == r or not team[r] <= 1.0 <= team[s]:
                    continue
                ok = final[s] >= HIGH - EPS or (
                    final[s] + delta[s][last] / team[s] >= reached - EPS
                )
                assert ok, (territory_id, r, s, final[s], reached)
                plain = team[r] == team[s] == 1.0 and delta[s][last] <= HIGH - RELEASE
                if plain and reached >= HIGH:
                    assert final[s] >= RELEASE - EPS, (territory_id, r, s, final[s])


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


@settings(max_examples=60, deadline=None)
@given(crowded_cases())
def test_capacity_properties_when_crowded(case: Case) -> None:
    result = _run(case, case.org.frames())
    assert result.decisions.height == len(case.org.accounts) + len(case.org.leads)
    check_capacity(case, result)
    check_followers(case, result)
