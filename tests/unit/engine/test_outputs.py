"""Output contract: exact schemas, row bookkeeping, determinism, inputs validation, purity."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard.config import RoutingConfig
from switchboard.engine import EngineInputError, EngineInputs, route
from switchboard.engine.eligibility import Selection
from switchboard.engine.schema import CONFLICTS, DECISIONS, REP_STATE, RULES, SLA_BREACHES

from .conftest import AS_OF, T0, Org, config_with, decision


def _busy_org() -> Org:
    """A bit of everything: every rule, a leaver, conflicts, leads and accounts."""
    return (
        Org()
        .rep("R-SAM", "Sam West", index=40.0)
        .rep("R-DANA", "Dana East", index=40.0)
        .rep("R-LEE", "Lee Leave", availability="on_leave")
        .rep("R-PAT", "Pat Leaver", availability="terminated")
        .rep("R-FULL", index=99.5, capacity=50.0)
        .territory("T-W", ["R-SAM", "R-LEE"], name="West", priority=1)
        .territory("T-E", ["R-DANA", "R-PAT"], name="East", priority=2)
        .territory("T-FULL", ["R-FULL"], name="Full")
        .account("ACME", "R-DANA", territories=["T-E"])
        .opportunity("O1", "ACME", "R-DANA")
        .lead("L1", account="ACME", territories=["T-W"], account_territories=["T-E"])
        .lead("L2", territories=["T-FULL"])
        .lead("L3", territories=["T-FULL"])
        .account("P-PIPE", "R-PAT", territories=["T-E"])
        .opportunity("O2", "P-PIPE", "R-PAT")
        .account("P-T3", "R-PAT", tier=3, territories=["T-E"])
        .account("GLOBEX", "R-SAM")
        .name("GLOBEX", "R-SAM")
        .account("GLOBEX-UK", parent="GLOBEX", territories=["T-E"])
        .account("NOWHERE")
        .account("GHOST", "R-GHOST", territories=["T-W", "T-E"])
        # Decided by territory an hour ago and never touched: re-routed when sla: is on.
        .rep("R-ANA", "Ana Lopez")
        .rep("R-BEN", "Ben Ruiz")
        .territory("T-SLA", ["R-ANA", "R-BEN"], name="Desk")
        .lead("L-SLA", "R-ANA", territories=["T-SLA"])
        .clock("L-SLA", "R-ANA", "T-SLA", AS_OF - timedelta(hours=1))
    )


SLA_ON = config_with(sla={"first_touch_minutes": 30})


def test_outputs_match_the_schemas_exactly() -> None:
    result = _busy_org().route(SLA_ON, run_id="run-42")
    assert result.decisions.schema == pl.Schema(DECISIONS)
    assert result.conflicts.schema == pl.Schema(CONFLICTS)
    assert result.rep_state.schema == pl.Schema(REP_STATE)
    assert result.sla_breaches.schema == pl.Schema(SLA_BREACHES)
    assert result.sla_breaches["record_id"].to_list() == ["L-SLA"]
    assert set(result.decisions["rule"]) <= set(RULES)
    assert set(result.decisions["run_id"]) == set(result.conflicts["run_id"]) == {"run-42"}


def test_every_decision_has_exactly_one_of_owner_or_queue() -> None:
    decisions = _busy_org().route(SLA_ON).decisions
    assert decisions["record_id"].is_unique().all()
    has_owner = decisions["owner_id"].is_not_null()
    has_queue = decisions["queue"].is_not_null()
    assert (has_owner ^ has_queue).all()
    assert set(decisions["rule"]) == set(RULES) - {"named_account", "account_owner"}


def test_decision_bookkeeping_columns() -> None:
    config = RoutingConfig(rules_version="abc123")
    org = Org().rep("R1", index=1.0).territory("T1", ["R1"])
    org.account("A1", territories=["T1"], created_at=AS_OF - timedelta(minutes=5))
    row = decision(org.route(config), "A1")
    assert row["decided_at"] == AS_OF
    assert row["rules_version"] == "abc123"
    assert row["latency_seconds"] == pytest.approx(300.0)
    assert row["candidates"] == ["territory:T1:R1"]


def test_aware_as_of_is_stored_as_naive_utc() -> None:
    org = Org().rep("R1").territory("T1", ["R1"]).account("A1", territories=["T1"])
    aware = AS_OF.replace(tzinfo=UTC)
    result = route(org.inputs(), RoutingConfig(), run_id="r", as_of=aware)
    assert result.decisions["decided_at"].to_list() == [AS_OF]
    assert result.rep_state["updated_at"].to_list() == [AS_OF]


def test_candidates_list_every_rule_in_order() -> None:
    row = decision(_busy_org().route(), "L1")
    assert row["candidates"] == [
        "open_opportunity::R-DANA",
        "account_owner::R-DANA",
        "territory:T-E:R-DANA",
    ]
    full = decision(_busy_org().route(), "L3")
    assert full["candidates"] == ["overflow_queue:T-FULL:overflow:T-FULL"]


def test_rep_state_covers_every_rep_and_advances_receivers() -> None:
    result = _busy_org().route()
    state = {r["rep_id"]: r for r in result.rep_state.to_dicts()}
    assert set(state) == {"R-SAM", "R-DANA", "R-LEE", "R-PAT", "R-FULL", "R-ANA", "R-BEN"}
    assert sorted(r["rr_position"] for r in state.values()) == [1, 2, 3, 4, 5, 6, 7]
    receivers = set(result.decisions["owner_id"].drop_nulls()) - {"R-PAT"}
    assert min(state[r]["rr_position"] for r in receivers) > max(
        state[r]["rr_position"] for r in state if r not in receivers
    )
    assert state["R-FULL"]["is_overflowing"] is True  # 99.5 + 0.5 for one lead
    assert all(r["updated_at"] == AS_OF for r in state.values())


def test_no_records_to_decide_gives_empty_frames_with_schemas() -> None:
    org = Org().rep("R1").territory("T1", ["R1"]).account("A1", "R1", territories=["T1"])
    result = org.route()
    assert result.decisions.is_empty()
    assert result.decisions.schema == pl.Schema(DECISIONS)
    assert result.conflicts.is_empty()
    assert result.conflicts.schema == pl.Schema(CONFLICTS)
    assert result.rep_state.height == 1


def test_only_required_marts() -> None:
    frames = Org().rep("R1").territory("T1", ["R1"]).account("A1", territories=["T1"]).frames()
    for optional in ("leads", "opportunities", "named_accounts", "rep_state"):
        del frames[optional]
    result = route(EngineInputs.from_frames(frames), RoutingConfig(), run_id="r", as_of=AS_OF)
    assert result.decisions["owner_id"].to_list() == ["R1"]


def _shuffled(frames: dict[str, pl.DataFrame], seed: int) -> EngineInputs:
    return EngineInputs.from_frames(
        {name: f.sample(fraction=1.0, shuffle=True, seed=seed) for name, f in frames.items()}
    )


def test_shuffled_input_rows_give_identical_output() -> None:
    org = _busy_org()
    for i in range(40):
        org.lead(
            f"BATCH-{i:02d}",
            territories=["T-W", "T-E"][: 1 + i % 2],
            created_at=T0 + timedelta(seconds=i % 3),
        )
    frames = org.frames()
    config = RoutingConfig()
    baseline = route(EngineInputs.from_frames(frames), config, run_id="r", as_of=AS_OF)
    for seed in range(3):
        again = route(_shuffled(frames, seed), config, run_id="r", as_of=AS_OF)
        assert_frame_equal(again.decisions, baseline.decisions)
        assert_frame_equal(again.conflicts, baseline.conflicts)
        assert_frame_equal(again.rep_state, baseline.rep_state)


def test_mart_names_and_validation_errors() -> None:
    frames = Org().rep("R1").territory("T1", ["R1"]).account("A1").frames()
    by_mart = {
        "marts.dim_accounts": frames["accounts"],
        "dim_reps": frames["reps"],
        "fct_territory_matches": frames["territory_matches"],
        "dim_territory_members": frames["territory_members"],
        "fct_rep_workload": frames["workload"],
    }
    assert isinstance(EngineInputs.from_frames(by_mart).accounts, pl.LazyFrame)

    broken = dict(by_mart, dim_reps=frames["reps"].drop("is_available"))
    with pytest.raises(
        EngineInputError,
        match=r"'reps' \(dim_reps\) is missing column "
        r"'is_available'",
    ):
        EngineInputs.from_frames(broken)
    with pytest.raises(EngineInputError, match=r"'workload'.*is missing"):
        EngineInputs.from_frames({k: v for k, v in by_mart.items() if k != "fct_rep_workload"})
    with pytest.raises(EngineInputError, match="unknown engine input 'dim_repz'"):
        EngineInputs.from_frames({**by_mart, "dim_repz": frames["reps"]})


def test_timestamps_with_a_zone_or_as_text_are_normalised() -> None:
    org = Org().rep("R1").territory("T1", ["R1"])
    org.account("A1", territories=["T1"], created_at=AS_OF - timedelta(seconds=60))
    frames = org.frames()
    aware = frames["accounts"].with_columns(
        pl.col("created_at").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Paris")
    )
    text = frames["accounts"].with_columns(pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    for accounts in (aware, text):
        inputs = EngineInputs.from_frames({**frames, "accounts": accounts})
        result = route(inputs, RoutingConfig(), run_id="r", as_of=AS_OF)
        assert result.decisions["latency_seconds"].to_list() == [60.0]


def test_engine_imports_neither_duckdb_nor_prefect() -> None:
    code = (
        "import sys\n"
        "import switchboard.engine\n"
        "import switchboard.engine.router\n"
        "bad = [m for m in ('duckdb', 'prefect') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_an_unknown_owner_problem_to_repair_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown owner problem weekly"):
        Selection(also_repairs=("weekly",))


def test_decided_at_is_as_of() -> None:
    moment = datetime(2027, 1, 2, 3, 4, 5)
    org = Org().rep("R1").account("A1")
    result = route(org.inputs(), RoutingConfig(), run_id="r", as_of=moment)
    assert result.decisions["decided_at"].to_list() == [moment]
