"""switchboard.stories: the demo's story lines read from the routing log."""

from __future__ import annotations

from datetime import datetime

import polars as pl


def test_the_sla_story_row_reads_the_leads_decisions() -> None:
    from switchboard.stories import sla_row

    history = pl.DataFrame(
        {
            "decided_at": [datetime(2026, 11, 23, 9, 0), datetime(2026, 11, 23, 9, 35)],
            "owner_id": ["REP-SLA-1", "REP-SLA-2"],
            "queue": [None, None],
            "rule": ["territory", "sla_reroute"],
            "rationale": [
                "Routed …",
                "Not touched within 30 min by Lena Moss; re-routed (1 of 2) …",
            ],
        }
    )
    story, outcome = sla_row(history) or ("", "")
    assert story.startswith("Inbound lead from a Demo Request, nobody touches it")
    assert outcome == (
        "REP-SLA-1 via territory at 09:00; at 09:35 REP-SLA-2 via sla_reroute: "
        "Not touched within 30 min by Lena Moss; re-routed (1 of 2) …"
    )
    assert sla_row(history.head(1)) == (
        "Inbound lead from a Demo Request, nobody touches it",
        "REP-SLA-1 via territory at 09:00.",
    )
    assert sla_row(history.clear()) is None


def test_inbound_story_rows_read_the_routing_log() -> None:
    from switchboard.stories import _inbound_rows

    decisions = pl.DataFrame(
        {
            "record_id": ["LEAD-HOURS", "LEAD-SKILL-JA", "LEAD-RR-1", "LEAD-RR-2", "LEAD-RR-3"],
            "owner_id": ["REP-NEWYORK", None, "REP-RR-1", "REP-RR-2", "REP-RR-1"],
            "queue": [None, "queue-inbound-desk", None, None, None],
            "rule": ["territory", "overflow_queue", "territory", "territory", "territory"],
            "territory_id": ["T-INBOUND-HOURS", "T-INBOUND-SKILLS"] + ["T-INBOUND-RR"] * 3,
            "rationale": ["Routed …", "No member with skills ja …", "r", "r", "r"],
        }
    )

    def one(record_id: str) -> dict[str, object] | None:
        hit = decisions.filter(pl.col("record_id") == record_id)
        return hit.row(0, named=True) if hit.height else None

    rows = _inbound_rows(decisions, one)
    assert [outcome.split(":")[0] for _, outcome in rows[:2]] == [
        "REP-NEWYORK via territory",
        "queue-inbound-desk via overflow_queue",
    ]
    assert rows[2][1].startswith("3 new leads in rotation: REP-RR-1 2, REP-RR-2 1, REP-RR-3 0")
