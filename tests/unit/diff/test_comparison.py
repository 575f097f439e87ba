"""The what-if's comparison (switchboard.diff) on small in-memory sides: what moves, where
records a side does not decide stay, the per-rep and per-territory workload and fairness,
and the page."""

from __future__ import annotations

from typing import Any

import polars as pl

from switchboard.diff.comparison import compare
from switchboard.diff.model import KEPT, MOVES_SCHEMA, REPS_SCHEMA, WAITING_SCHEMA, Side
from switchboard.diff.page import render_html
from switchboard.engine.schema import CONFLICTS, DECISIONS, REP_STATE


def decisions(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"run_id": "R", "record_type": "account", **row} for row in rows], schema=DECISIONS
    )


# Capacity 10 (delta_account 12.5, delta_lead 2.5 with the shipped weights).
REPS = pl.DataFrame(
    {
        "rep_id": ["R1", "R2", "R3"],
        "rep_name": ["Ann One", "Bo Two", "<Cy> Three"],
        "team": ["West", "West", "West"],
        "is_available": [True, True, True],
        "workload_index": [50.0, 50.0, 20.0],
        "delta_account": [12.5] * 3,
        "delta_lead": [2.5] * 3,
    },
    schema=REPS_SCHEMA,
)
TERRITORIES = pl.DataFrame({"territory_id": ["T1", "T2"], "territory_name": ["West", "East"]})
MEMBERS = pl.DataFrame({"territory_id": ["T1", "T1", "T2"], "rep_id": ["R1", "R2", "R3"]})


def side(
    rows: list[dict[str, Any]],
    *,
    members: pl.DataFrame = MEMBERS,
    overflowing: tuple[str, ...] = (),
) -> Side:
    return Side(
        decisions=decisions(rows),
        conflicts=pl.DataFrame(schema=CONFLICTS),
        rep_state=pl.DataFrame(
            {
                "rep_id": ["R1", "R2", "R3"],
                "is_overflowing": [r in overflowing for r in ("R1", "R2", "R3")],
            },
            schema={k: REP_STATE[k] for k in ("rep_id", "is_overflowing")},
        ),
        reps=REPS,
        members=members,
        territories=TERRITORIES,
    )


# What both configs decide alike: a leaver's account and a new lead.
ALIKE = [
    {
        "record_id": "A-LEAVER",
        "previous_owner_id": "GONE",
        "owner_id": "R1",
        "rule": "territory",
        "territory_id": "T1",
        "rationale": "leaver's book",
    },
    {
        "record_type": "lead",
        "record_id": "L-NEW",
        "owner_id": "R2",
        "rule": "territory",
        "territory_id": "T1",
        "rationale": "new lead",
    },
]


def test_the_same_decisions_move_nothing() -> None:
    diff = compare(side(ALIKE), side(ALIKE))
    assert diff.moves.is_empty() and diff.moves.schema == pl.Schema(MOVES_SCHEMA)
    assert diff.per_rep.is_empty() and diff.per_territory.is_empty()
    assert diff.decided == 2
    assert diff.headline().startswith(
        "0 records would move (0 accounts, 0 leads; 0 to a "
        "queue) of the 2 records the two configs decide"
    )


def test_only_what_the_configs_decide_differently_moves() -> None:
    before = side(
        [
            *ALIKE,
            # R1 keeps A-OUT under the current plan (not decided); the new plan takes it away.
            # A-PICK goes to R1 now, to R2 under the new config.
            {
                "record_id": "A-PICK",
                "previous_owner_id": "GONE",
                "owner_id": "R1",
                "rule": "territory",
                "territory_id": "T1",
                "rationale": "old pick",
            },
            # A-OVER is decided by the current config only: the new one keeps the owner.
            {
                "record_id": "A-OVER",
                "previous_owner_id": "R3",
                "queue": "overflow:T2",
                "rule": "overflow_queue",
                "territory_id": "T2",
                "rationale": "old overflow",
            },
        ]
    )
    after = side(
        [
            *ALIKE,
            {
                "record_id": "A-OUT",
                "previous_owner_id": "R1",
                "owner_id": "R3",
                "rule": "territory",
                "territory_id": "T2",
                "rationale": "outside R1's territories",
            },
            {
                "record_id": "A-PICK",
                "previous_owner_id": "GONE",
                "owner_id": "R2",
                "rule": "territory",
                "territory_id": "T1",
                "rationale": "new pick",
            },
            # Waits in its queue under the current config (settled, not decided), and the new
            # config sends it to the same queue: no move. Q-TAKEN leaves its queue for R2.
            {
                "record_id": "Q-SAME",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
                "rationale": "still nothing matches",
            },
            {
                "record_id": "Q-TAKEN",
                "owner_id": "R2",
                "rule": "territory",
                "territory_id": "T1",
                "rationale": "now matches T1",
            },
        ]
    )
    waiting = pl.DataFrame(
        {
            "record_type": ["account", "account"],
            "record_id": ["Q-SAME", "Q-TAKEN"],
            "queue": ["fallback-queue", "fallback-queue"],
            "rule": ["fallback_queue", "fallback_queue"],
            "territory_id": [None, None],
        },
        schema=WAITING_SCHEMA,
    )
    names = pl.DataFrame(
        {"record_type": ["account"], "record_id": ["A-OUT"], "record_name": ["Out Co"]}
    )

    diff = compare(before, after, waiting, names)

    moves = {row["record_id"]: row for row in diff.moves.iter_rows(named=True)}
    assert sorted(moves) == ["A-OUT", "A-OVER", "A-PICK", "Q-TAKEN"]
    assert moves["A-OUT"] == {
        "record_type": "account",
        "record_id": "A-OUT",
        "record_name": "Out Co",
        "from_owner_id": "R1",
        "from_owner_name": "Ann One",
        "from_queue": None,
        "to_owner_id": "R3",
        "to_owner_name": "<Cy> Three",
        "to_queue": None,
        "from_rule": KEPT,
        "to_rule": "territory",
        "from_territory_id": None,
        "from_territory_name": None,
        "to_territory_id": "T2",
        "to_territory_name": "East",
        "rationale": "outside R1's territories",
    }
    assert (moves["A-PICK"]["from_owner_id"], moves["A-PICK"]["to_owner_id"]) == ("R1", "R2")
    over = moves["A-OVER"]
    assert (over["from_queue"], over["from_rule"], over["to_owner_id"], over["to_rule"]) == (
        "overflow:T2",
        "overflow_queue",
        "R3",
        KEPT,
    )
    assert over["rationale"] == "not decided again under the new config: stays with R3"
    taken = moves["Q-TAKEN"]
    assert (taken["from_queue"], taken["from_rule"], taken["to_owner_id"]) == (
        "fallback-queue",
        "fallback_queue",
        "R2",
    )
    assert diff.to_queues == 0 and diff.decided == 7
    assert diff.overflow_before == 1 and diff.overflow_after == 0

    # Workload: R1 50 + A-LEAVER 12.5 + A-PICK 12.5 = 75 before; 50 + 12.5 - A-OUT 12.5
    # = 50 after. R2 50 + L-NEW 2.5 = 52.5 before; + A-PICK, Q-TAKEN = 77.5 after.
    # R3 20 - A-OVER 12.5 = 7.5 before; + A-OUT = 32.5 after.
    per_rep = {row["rep_id"]: row for row in diff.per_rep.iter_rows(named=True)}
    assert {
        r: (v["records_in"], v["records_out"], v["workload_before"], v["workload_after"])
        for r, v in per_rep.items()
    } == {"R1": (0, 2, 75.0, 50.0), "R2": (2, 0, 52.5, 77.5), "R3": (2, 0, 7.5, 32.5)}
    # T1 (R1, R2): mean 63.75, deviation 11.25 before; mean 63.75, deviation 13.75 after.
    # T2 (R3 alone): never deviates. A-OUT and A-OVER leave no territory for another, and
    # Q-TAKEN enters T1 from no territory.
    per_territory = {row["territory_id"]: row for row in diff.per_territory.iter_rows(named=True)}
    t1 = per_territory["T1"]
    assert (t1["records_in"], t1["records_out"], t1["moved_within"]) == (1, 0, 1)
    assert (t1["mean_workload_before"], t1["mean_workload_after"]) == (63.8, 63.8)
    assert (t1["max_deviation_before"], t1["max_deviation_after"]) == (11.2, 13.8)
    t2 = per_territory["T2"]
    assert (t2["records_in"], t2["records_out"], t2["moved_within"]) == (1, 1, 0)
    assert (t2["max_deviation_before"], t2["max_deviation_after"]) == (0.0, 0.0)
    assert diff.per_territory["territory_id"].to_list() == ["T1", "T2"]


def test_membership_and_overflow_changes_show_per_territory() -> None:
    """A rep leaving a territory's membership changes its member count and fairness even
    when no record moves; a rep newly over high water is named."""
    fewer = MEMBERS.filter(pl.col("rep_id") != "R2")
    diff = compare(side(ALIKE), side(ALIKE, members=fewer, overflowing=("R3",)))
    assert diff.moves.is_empty() and diff.per_rep.is_empty()
    (t1,) = diff.per_territory.iter_rows(named=True)
    assert (t1["territory_id"], t1["members_before"], t1["members_after"]) == ("T1", 2, 1)
    assert (t1["max_deviation_before"], t1["max_deviation_after"]) == (5.0, 0.0)
    assert diff.newly_overflowing == ["R3"]
    assert "1 rep would newly stop taking records (R3)" in diff.headline()


def test_the_page_has_the_tables_and_escapes_names() -> None:
    before = side(ALIKE)
    after = side(
        [
            *ALIKE,
            {
                "record_id": "A-OUT",
                "previous_owner_id": "R1",
                "owner_id": "R3",
                "rule": "territory",
                "territory_id": "T2",
                "rationale": "x < y",
            },
        ]
    )
    page = render_html(
        compare(before, after),
        title="What-if 1",
        facts={"current": "routing.yml", "new": "new & improved.yml"},
    )
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "http" not in page  # opens offline: nothing to fetch
    for table in ('id="per-territory"', 'id="per-rep"', 'id="moves"'):
        assert f"<table {table}>" in page
    assert "&lt;Cy&gt; Three" in page and "x &lt; y" in page and "new &amp; improved" in page
    assert '<td class="n up">+12.5</td>' in page  # R3 gains A-OUT: 20 -> 32.5
