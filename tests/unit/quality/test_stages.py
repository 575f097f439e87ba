"""The marts and engine stage checks fail on the rows that break them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard import warehouse
from switchboard.config import RoutingConfig
from switchboard.engine.schema import DECISIONS
from switchboard.quality import runner, stages

TODAY = date(2026, 11, 23)


def _marts(
    tmp_path: Path, availability: str = "available", rep_ids: tuple[str, ...] = ("R1", "R2")
) -> duckdb.DuckDBPyConnection:
    con = warehouse.connect(tmp_path / "w.duckdb")
    n = len(rep_ids)
    warehouse.write_table(
        con,
        "marts.dim_reps",
        pl.DataFrame(
            {
                "rep_id": list(rep_ids),
                "availability": [availability] * n,
                "is_available": [True] * n,
                "capacity": [100] * n,
            }
        ),
    )
    warehouse.write_table(
        con,
        "marts.fct_territory_matches",
        pl.DataFrame(
            {"record_type": ["account"], "match_source": ["record"], "territory_id": ["T1"]}
        ),
    )
    warehouse.write_table(con, "marts.dim_accounts", pl.DataFrame({"account_id": ["A1"]}))
    warehouse.write_table(con, "marts.dim_leads", pl.DataFrame({"lead_id": ["L1"]}))
    warehouse.write_table(
        con,
        "marts.fct_rep_workload",
        pl.DataFrame(
            {
                "rep_id": list(rep_ids),
                "as_of_date": [TODAY] * n,
                "workload_index": [50.0] * n,
                "capacity": [100] * n,
            }
        ),
    )
    return con


def test_marts_check_passes_on_sound_marts(tmp_path: Path) -> None:
    stages.check_marts(_marts(tmp_path), TODAY)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"rep_ids": ("R1", "R1")}, "expect_column_values_to_be_unique on rep_id"),
        ({"availability": "retired"}, "expect_column_values_to_be_in_set on availability"),
    ],
)
def test_marts_check_names_the_broken_expectation(
    tmp_path: Path, kwargs: dict[str, object], expected: str
) -> None:
    with pytest.raises(runner.StageCheckFailed, match=expected):
        stages.check_marts(_marts(tmp_path, **kwargs), TODAY)  # type: ignore[arg-type]


def _decision(**row: object) -> dict[str, object]:
    base = {
        "run_id": "r",
        "decided_at": datetime(2026, 11, 23),
        "record_type": "account",
        "record_id": "A1",
        "previous_owner_id": None,
        "owner_id": "R1",
        "queue": None,
        "rule": "territory",
        "territory_id": "T1",
        "conflict": False,
        "candidates": [],
        "rationale": "",
        "rules_version": "v",
        "latency_seconds": 1.0,
    }
    return {**base, **row}


REPS = pl.DataFrame({"rep_id": ["R1", "R2"], "is_available": [True, False]})
LOAD = pl.DataFrame({"rep_id": ["R1", "R2"], "workload_index": [50.0, 10.0], "capacity": [2, 100]})


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        ([_decision(), _decision()], "record_key"),  # decided twice
        ([_decision(owner_id="R2")], "owner_ok"),  # unavailable owner
        ([_decision(owner_id=None)], "has_one_target"),  # unassigned
        ([_decision(record_id=f"A{i}") for i in range(3)], "headroom_ok"),  # pushed past 100
    ],
)
def test_engine_check_catches_each_broken_promise(
    rows: list[dict[str, object]], column: str
) -> None:
    frame = stages.engine_check_frame(
        pl.DataFrame(rows, schema=DECISIONS), REPS, LOAD, RoutingConfig()
    )
    with pytest.raises(runner.StageCheckFailed, match=column):
        runner.check_frame(frame, stages.engine_specs(), "engine", row_id="record_key")


def test_engine_check_accepts_manager_review_of_an_invalid_owner() -> None:
    rows = [
        _decision(owner_id="R2", previous_owner_id="R2", rule="manager_review"),
        _decision(record_id="A2", owner_id="R1"),
    ]
    frame = stages.engine_check_frame(
        pl.DataFrame(rows, schema=DECISIONS), REPS, LOAD, RoutingConfig()
    )
    runner.check_frame(frame, stages.engine_specs(), "engine", row_id="record_key")


def test_engine_check_accepts_leads_following_a_placed_account_past_high_water() -> None:
    """R1 (index 90, capacity 2) takes one account below high water (+62.5); the two leads
    that follow it (+12.5 each) come after that placement."""
    rows = [
        _decision(),
        *(_decision(record_type="lead", record_id=f"L{i}", rule="account_owner") for i in (1, 2)),
    ]
    load = LOAD.with_columns(workload_index=pl.Series([90.0, 10.0]))
    frame = stages.engine_check_frame(
        pl.DataFrame(rows, schema=DECISIONS), REPS, load, RoutingConfig()
    )
    runner.check_frame(frame, stages.engine_specs(), "engine", row_id="record_key")
    # Leads of an existing owner (no territory) counted before placement: past high water.
    existing = [
        _decision(),
        *(
            _decision(
                record_type="lead", record_id=f"L{i}", rule="account_owner", territory_id=None
            )
            for i in (1, 2)
        ),
    ]
    frame = stages.engine_check_frame(
        pl.DataFrame(existing, schema=DECISIONS), REPS, load, RoutingConfig()
    )
    with pytest.raises(runner.StageCheckFailed, match="headroom_ok"):
        runner.check_frame(frame, stages.engine_specs(), "engine", row_id="record_key")
