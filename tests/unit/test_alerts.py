"""Guards stop a damaging run; alerts are derived from decisions and the marts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from switchboard import guards
from switchboard.alerts import build_alerts
from switchboard.config import RoutingConfig
from switchboard.engine.schema import CONFLICTS, DECISIONS, SLA_BREACHES
from switchboard.summary import summarize

AS_OF = datetime(2026, 11, 23, 9, 0)
CONFIG = RoutingConfig()


def decision(**row: object) -> dict[str, object]:
    base = {
        "run_id": "r1",
        "decided_at": AS_OF,
        "record_type": "account",
        "record_id": "A1",
        "previous_owner_id": None,
        "owner_id": "R1",
        "queue": None,
        "rule": "territory",
        "territory_id": "T1",
        "conflict": False,
        "candidates": [],
        "rationale": "why",
        "rules_version": "v",
        "latency_seconds": 120.0,
    }
    return {**base, **row}


def frame(rows: list[dict[str, object]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema)


REPS = pl.LazyFrame(
    {
        "rep_id": ["R1", "R2", "R3", "R4", "R5"],
        "rep_name": ["Ann", "Bo", "Cy", "Di", "Ed"],
        "manager_id": ["M1", "M1", "M2", "M2", None],
        "availability": ["available", "available", "terminated", "not_in_hr", "available"],
        "data_problem_column": [None] * 5,
        "data_problem_value": [None] * 5,
        "data_problem": [None] * 5,
    },
    schema_overrides={
        c: pl.String for c in ("data_problem_column", "data_problem_value", "data_problem")
    },
)
ACCOUNTS = pl.LazyFrame(
    {
        "account_id": [f"A{i}" for i in range(10)],
        "owner_id": ["R1", "R1", "R2", "R2", "R3", "R3", "R4", "R5", None, None],
    }
)


def _floors(**limits: object) -> RoutingConfig:
    """CONFIG with some guard settings changed (these frames are below the default floors;
    tests/unit/test_guards.py covers the floors themselves)."""
    return CONFIG.model_copy(update={"guards": CONFIG.guards.model_copy(update=limits)})


def test_invalid_rep_share_trips_on_a_truncated_hr_export() -> None:
    report = guards.measure(decisions=frame([], DECISIONS), accounts=ACCOUNTS, reps=REPS)
    assert (report.carrying_reps_with_book, report.invalid_reps_with_book) == (5, 2)
    with pytest.raises(guards.GuardTripped, match="max_invalid_rep_share") as caught:
        guards.check(report, _floors(min_invalid_reps=2))
    assert caught.value.guard == "max_invalid_rep_share"
    # A departure names its leaver: that rep does not count toward the share.
    exempt = guards.measure(
        decisions=frame([], DECISIONS), accounts=ACCOUNTS, reps=REPS, exempt_rep_ids=["R3"]
    )
    assert exempt.invalid_reps_with_book == 1
    guards.check(exempt, _floors(min_invalid_reps=1, max_invalid_rep_share=0.25))


def test_reassign_share_counts_only_owner_changes() -> None:
    moves = [
        decision(record_id="A4", previous_owner_id="R3", owner_id="R1"),
        decision(record_id="A5", previous_owner_id="R3", owner_id="R3", rule="manager_review"),
        decision(
            record_id="A6", previous_owner_id="R4", owner_id=None, queue="q", rule="overflow_queue"
        ),
        decision(record_id="A8", previous_owner_id=None, owner_id="R2"),
    ]
    report = guards.measure(decisions=frame(moves, DECISIONS), accounts=ACCOUNTS, reps=REPS)
    assert (report.reassigned_accounts, report.owned_accounts) == (2, 8)
    with pytest.raises(guards.GuardTripped, match="would move 2 of 8"):
        guards.check(
            report, _floors(max_invalid_rep_share=1.0, max_reassign_share=0.2, min_reassignments=1)
        )
    # 25% is within the default 30%
    guards.check(report, _floors(max_invalid_rep_share=1.0, min_reassignments=1))


@pytest.mark.parametrize(
    ("reps", "carrying", "territories", "guard"),
    [(0, 0, 5, "empty_reps"), (5, 0, 5, "no_available_reps"), (5, 5, 0, "empty_territories")],
)
def test_empty_inputs_trip(reps: int, carrying: int, territories: int, guard: str) -> None:
    with pytest.raises(guards.GuardTripped) as caught:
        guards.check_inputs(
            rep_count=reps, carrying_rep_count=carrying, territory_count=territories
        )
    assert caught.value.guard == guard


def _alerts(
    decisions: list[dict[str, object]],
    conflicts: pl.DataFrame | None = None,
    gaps: pl.LazyFrame | None = None,
    history: pl.LazyFrame | None = None,
    reps: pl.LazyFrame = REPS,
    sla: pl.DataFrame | None = None,
) -> pl.DataFrame:
    return build_alerts(
        decisions=frame(decisions, DECISIONS),
        conflicts=conflicts if conflicts is not None else frame([], CONFLICTS),
        reps=reps,
        gaps=gaps
        if gaps is not None
        else pl.LazyFrame(
            schema={
                "account_id": pl.String,
                "owner_id": pl.String,
                "reason": pl.String,
                "gap_since": pl.Datetime("us"),
            }
        ),
        workload_history=history
        if history is not None
        else pl.LazyFrame(
            schema={
                "rep_id": pl.String,
                "as_of_date": pl.Date,
                "workload_index": pl.Float64,
                "days_over_high_water": pl.Int64,
            }
        ),
        config=CONFIG,
        run_id="r1",
        as_of=AS_OF,
        sla_breaches=sla,
    )


def breach(**row: object) -> dict[str, object]:
    """A row of the engine's sla_breaches frame: L1, lapsed by Ann (R1), re-routed to Bo."""
    base = {
        "record_id": "L1",
        "previous_owner_id": "R1",
        "owner_id": "R2",
        "rule": "sla_reroute",
        "territory_id": "T1",
        "territory_name": "Desk",
        "clock_started_at": AS_OF - timedelta(minutes=45),
        "first_touch_minutes": 30,
        "reroute": 1,
        "reroutes_before": 0,
        "max_reroutes": 2,
    }
    return {**base, **row}


def test_a_missed_sla_alerts_the_manager_of_the_rep_who_let_it_lapse() -> None:
    rerouted = decision(
        record_type="lead",
        record_id="L1",
        previous_owner_id="R1",
        owner_id="R2",
        rule="sla_reroute",
    )
    reviewed = decision(
        record_type="lead",
        record_id="L2",
        previous_owner_id="R3",
        owner_id="R3",
        rule="manager_review",
    )
    lone = decision(
        record_type="lead",
        record_id="L3",
        previous_owner_id="R5",
        owner_id="R5",
        rule="manager_review",
    )
    sla = frame(
        [
            breach(),
            breach(
                record_id="L2",
                previous_owner_id="R3",
                owner_id=None,
                rule="manager_review",
                reroute=None,
                reroutes_before=2,
            ),
            breach(
                record_id="L3",
                previous_owner_id="R5",
                owner_id=None,
                rule="manager_review",
                reroute=None,
                reroutes_before=0,
            ),
        ],
        SLA_BREACHES,
    )
    out = _alerts([rerouted, reviewed, lone], sla=sla)
    # A lead kept for manager review after its SLA is no pipeline handoff.
    assert out["type"].to_list() == ["sla_breached"] * 3
    rows = {r["record_id"]: r for r in out.iter_rows(named=True)}
    assert [
        (rows[k]["recipient_id"], rows[k]["rep_id"], rows[k]["severity"])
        for k in ("L1", "L2", "L3")
    ] == [("M1", "R1", "warning"), ("M2", "R3", "warning"), ("revops", "R5", "warning")]
    assert rows["L1"]["message"] == (
        "Lead L1 was not touched within 30 min by Ann; re-routed (1 of 2) to Bo."
    )
    assert rows["L1"]["detail"] == "not touched within 30 min by Ann; re-routed (1 of 2) to Bo"
    assert rows["L2"]["detail"] == (
        "not touched within 30 min by Cy; kept for manager review after 2 re-routes"
    )
    assert rows["L3"]["detail"] == (
        "not touched within 30 min by Ed; kept for manager review: "
        "nobody else in Desk could take it"
    )
    assert rows["L1"]["alert_key"] == "sla_breached|L1|R1|2026-11-23T08:15:00"
    # The same lapse, decided again by a retried run, is the same alert.
    assert _alerts([rerouted], sla=sla.head(1))["alert_key"].to_list() == [rows["L1"]["alert_key"]]


def test_pipeline_handoff_goes_to_the_leavers_manager() -> None:
    out = _alerts(
        [decision(record_id="A4", previous_owner_id="R3", owner_id="R3", rule="manager_review")]
    )
    row = out.row(0, named=True)
    assert (row["type"], row["severity"], row["recipient_id"], row["rep_id"]) == (
        "pipeline_handoff",
        "high",
        "M2",
        "R3",
    )
    assert "Cy" in row["message"]


def test_unowned_alert_only_past_the_limit_and_still_unowned() -> None:
    gaps = pl.LazyFrame(
        {
            "account_id": ["A8", "A9", "A7", "A6"],
            "owner_id": [None, None, "R5", "R4"],
            "reason": ["unowned", "unowned", "on_leave", "unknown_owner"],
            "gap_since": [
                AS_OF - timedelta(hours=30),
                AS_OF - timedelta(hours=2),
                AS_OF - timedelta(days=9),
                AS_OF - timedelta(hours=25),
            ],
        }
    )
    # A6 was routed to a rep this run: no alert. A9 is too recent; A7 is only on leave.
    out = _alerts([decision(record_id="A6", previous_owner_id="R4", owner_id="R1")], gaps=gaps)
    assert out.filter(pl.col("type") == "unowned_account")["record_id"].to_list() == ["A8"]


def test_a_held_rep_raises_one_data_problem_alert_and_no_unowned_alerts() -> None:
    """A rep whose row is broken keeps the book: the alert names the rep, the column and
    the value, and the book's accounts are not reported as ownerless."""
    reps = REPS.with_columns(
        availability=pl.when(pl.col("rep_id") == "R2")
        .then(pl.lit("data_problem"))
        .otherwise("availability"),
        data_problem_column=pl.when(pl.col("rep_id") == "R2").then(pl.lit("capacity")),
        data_problem_value=pl.when(pl.col("rep_id") == "R2").then(pl.lit("-5")),
        data_problem=pl.when(pl.col("rep_id") == "R2").then(
            pl.lit("reps row: capacity '-5' is below the minimum 1")
        ),
    )
    gaps = pl.LazyFrame(
        {
            "account_id": ["A2", "A3"],
            "owner_id": ["R2", "R2"],
            "reason": ["data_problem", "data_problem"],
            "gap_since": [AS_OF - timedelta(days=3)] * 2,
        }
    )
    out = _alerts([], gaps=gaps, reps=reps)
    assert out["type"].to_list() == ["rep_data_problem"]
    row = out.row(0, named=True)
    assert (row["rep_id"], row["severity"], row["recipient_id"]) == ("R2", "high", "revops")
    assert row["message"] == (
        "Bo (R2) keeps 2 account(s) but gets no new records until the export is fixed: "
        "reps row: capacity '-5' is below the minimum 1 (column capacity, value '-5')."
    )


def test_overload_needs_every_one_of_the_last_n_days() -> None:
    days = [AS_OF.date() - timedelta(days=i) for i in range(21)]
    history = pl.LazyFrame(
        {
            "rep_id": ["R1"] * 21 + ["R2"] * 21,
            "as_of_date": days + days,
            "workload_index": [120.0] * 21 + [120.0] * 20 + [90.0],
            # the streak as fct_rep_workload counts it, newest day first
            "days_over_high_water": [*range(21, 0, -1), *range(20, 0, -1), 0],
        }
    )
    out = _alerts([], history=history)
    over = out.filter(pl.col("type") == "rep_overloaded")
    assert over["rep_id"].to_list() == ["R1"]
    assert over["recipient_id"].to_list() == ["M1"]
    assert date(2026, 11, 23).isoformat() in over["alert_key"][0]


def test_rule_gap_and_alert_keys_are_stable() -> None:
    d = [
        decision(
            record_id="L1",
            record_type="lead",
            owner_id=None,
            queue="fallback-queue",
            rule="fallback_queue",
        )
    ]
    first, second = _alerts(d), _alerts([{**d[0], "run_id": "r2"}])
    assert first["type"].to_list() == ["rule_gap"]
    assert first["alert_key"].to_list() == second["alert_key"].to_list()


def test_summary_headline_reads_like_a_routing_log() -> None:
    rows = [decision(record_id=f"A{i}", latency_seconds=180.0) for i in range(3)] + [
        decision(
            record_id="L1",
            record_type="lead",
            rule="open_opportunity",
            conflict=True,
            latency_seconds=240.0,
        )
    ]
    conflicts = pl.DataFrame(
        [
            {
                "run_id": "r1",
                "record_type": "lead",
                "record_id": "L1",
                "conflict_type": "multi_territory",
                "candidates": [],
                "resolution": "open_opportunity",
                "owner_id": "R1",
                "queue": None,
                "rationale": "Opp owner wins",
            }
        ],
        schema=CONFLICTS,
    )
    s = summarize(
        run_id="r1",
        mode="hourly",
        decisions=frame(rows, DECISIONS),
        conflicts=conflicts,
        alerts=pl.DataFrame(schema={"type": pl.String}),
    )
    text = s.headline()
    assert text.startswith(
        "3 accounts and 1 lead routed. Avg routing time 3.2 min for new records."
    )
    assert "3 via territory" in text and "1 to open-opportunity owners" in text
    assert "1 conflict flagged: lead L1 (multi_territory): Opp owner wins" in text
    assert "| territory | 3 |" in s.to_markdown()
