"""A run decided group by group (switchboard.engine.partition) equals the whole run.

Over the random orgs of test_properties (every mode), crowded orgs where shared reps and
overflow decide, and the same orgs with round-robin territories, skilled leads and leads
past their first-touch SLA: every output of `route_by_group`, each group routed alone
and the groups packed into parts, is exactly `route` of the whole inputs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from switchboard.config import RoutingConfig
from switchboard.engine import EngineInputs, EngineResult, route
from switchboard.engine.partition import GROUP, assign_groups, components, route_by_group
from switchboard.plans import plan_for
from tests.engine_inputs import captured_run

from .conftest import AS_OF, Org, config_with
from .route_cases import Case, cases, crowded_cases

OUTPUTS = ("decisions", "conflicts", "rep_state", "round_robin", "skill_gaps", "sla_breaches")


def assert_same_result(whole: EngineResult, combined: EngineResult) -> None:
    for name in OUTPUTS:
        try:
            assert_frame_equal(getattr(combined, name), getattr(whole, name))
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None


def check(inputs: EngineInputs, config: RoutingConfig, mode: str, leavers: tuple[str, ...]) -> int:
    """Assert the partitioned runs equal the whole run; the number of groups."""
    options = {
        "run_id": "run-1",
        "as_of": AS_OF,
        "selection": plan_for(mode).selection,
        "leaver_rep_ids": leavers,
    }
    return check_options(inputs, config, options)


def check_options(inputs: EngineInputs, config: RoutingConfig, options: dict[str, Any]) -> int:
    whole = route(inputs, config, **options)  # type: ignore[arg-type]
    seen: list[list[str]] = []
    alone = route_by_group(
        inputs,
        config,
        **options,  # type: ignore[arg-type]
        on_part=lambda ids, _: seen.append(ids),
    )
    assert_same_result(whole, alone)
    assert_same_result(whole, route_by_group(inputs, config, parts=2, **options))  # type: ignore[arg-type]
    return len(seen)


def _variant(case: Case, draw: st.DrawFn) -> tuple[Org, RoutingConfig]:
    """The case's org with some territories in round robin, skills on reps and leads, and
    first-touch clocks on some leads (routing.yml ``sla:`` on)."""
    org = case.org
    rr = {t for t in org.territories if draw(st.booleans())}
    for member in org.members:
        if member["territory_id"] in rr:
            member["territory_method"] = "round_robin"
    for rep in org.reps:
        rep["skills"] = draw(st.sampled_from([None, ["german"], ["german", "french"]]))
    reps = [r["rep_id"] for r in org.reps]
    for lead in org.leads:
        lead["required_skills"] = draw(st.sampled_from([None, None, ["german"], ["French"]]))
        territories = [m["territory_id"] for m in org.matches if m["record_id"] == lead["lead_id"]]
        if territories and draw(st.booleans()):
            owner = draw(st.sampled_from(reps))
            lead["owner_id"] = owner
            org.clock(
                lead["lead_id"],
                owner,
                territories[0],
                AS_OF - timedelta(minutes=draw(st.sampled_from([10, 90, 600]))),
                reroutes=draw(st.integers(0, 2)),
                held_by=sorted({owner, draw(st.sampled_from(reps))}),
            )
    config = config_with(sla={"first_touch_minutes": 30, "max_reroutes": 2, "sources": []})
    return org, config


@st.composite
def variant_cases(draw: st.DrawFn) -> tuple[Case, RoutingConfig]:
    case = draw(st.one_of(cases(), crowded_cases()))
    org, config = _variant(case, draw)
    return Case(org, case.mode, case.leavers), config


@settings(max_examples=40, deadline=None)
@given(st.one_of(cases(), crowded_cases()))
def test_routing_group_by_group_equals_the_whole_run(case: Case) -> None:
    check(case.org.inputs(), RoutingConfig(), case.mode, case.leavers)


@settings(max_examples=30, deadline=None)
@given(variant_cases())
def test_groups_hold_with_round_robin_skills_and_sla(drawn: tuple[Case, RoutingConfig]) -> None:
    case, config = drawn
    check(case.org.inputs(), config, case.mode, case.leavers)


def test_groups_follow_territories_reps_and_followed_accounts() -> None:
    org = (
        Org()
        .rep("R1")
        .rep("R2")
        .rep("R3")
        .rep("R4")
        .rep("R5")
        .territory("T1", ["R1"])
        .territory("T2", ["R1", "R2"])  # shares R1 with T1
        .territory("T3", ["R3"])
        .account("A1", territories=["T1"])
        .account("A2", territories=["T2"])
        .account("A3", territories=["T3"])
        .account("A4", "R5")  # no territory, no earlier owner: its own group
        .account("A5", territories=["T3"], parent="A6")
        .account("A6", "R4")
        .name("A6", "R4")  # named parent: A5 may go to R4, as may A6 itself
        .lead("L1", account="A4")  # follows A4, may go to its owner R5
        .lead("L2", territories=["T3"])
        .opportunity("O1", "A3", "R2")  # A3 may go to R2 (open opportunity): T3 meets T2
    )
    groups = assign_groups(org.inputs().normalised())
    group = dict(zip(groups.records["record_id"], groups.records[GROUP], strict=True))
    assert group["A1"] == group["A2"] == group["A3"] == group["A5"] == group["L2"]
    assert group["A6"] == group["A5"]  # both touch R4, A6's named owner
    assert group["L1"] == group["A4"] != group["A1"]
    reps = dict(zip(groups.reps["rep_id"], groups.reps[GROUP], strict=True))
    assert reps["R1"] == reps["R2"] == reps["R3"] == reps["R4"] == group["A1"]
    assert reps["R5"] == group["A4"]


def test_components_are_a_union_find() -> None:
    edges = pl.DataFrame({"a": ["t:1", "t:2", "r:9", "t:5"], "b": ["r:1", "r:1", "t:3", "r:6"]})
    found = dict(components(edges).iter_rows())
    assert found["t:1"] == found["t:2"] == found["r:1"] == "r:1"
    assert found["r:9"] == found["t:3"] == "r:9"
    assert found["t:5"] == found["r:6"] == "r:6"
    assert len(found) == 7


@pytest.mark.e2e
def test_the_demo_org_routed_group_by_group_equals_the_whole_run(tmp_path: Path) -> None:
    """The generated demo org at 2,000 accounts, its inputs read from the warehouse by a
    real hourly run: group by group equals the whole run, and it splits into groups."""
    run = captured_run(tmp_path, accounts=2_000, seed=5, as_of=AS_OF)
    assert run.result.decisions.height > 0
    groups = check_options(run.inputs, run.config, run.options)
    assert groups > 1
