"""Report inputs shared by the report tests: tiny hand-built frames whose right answers
are known."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from switchboard import report
from switchboard.engine.schema import CONFLICTS, DECISIONS

SINCE = datetime(2026, 11, 16)


def decisions(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {
        "run_id": "r1",
        "decided_at": datetime(2026, 11, 20),
        "previous_owner_id": None,
        "owner_id": None,
        "queue": None,
        "territory_id": None,
        "conflict": False,
        "candidates": [],
        "rationale": "",
        "rules_version": "v",
        "latency_seconds": 60.0,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=DECISIONS)


def conflicts(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {
        "run_id": "r1",
        "record_type": "account",
        "candidates": [],
        "resolution": "territory",
        "owner_id": "R1",
        "queue": None,
        "rationale": "why",
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=CONFLICTS)


def cand(*territories: str) -> list[dict[str, str | None]]:
    return [
        {"rule": "territory", "territory_id": t, "owner_id": f"O-{t}", "queue": None}
        for t in territories
    ]


ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["P1", "P2", "S1", "S2", "S3", "S4", "F1", "F2", "F3"],
        "account_name": ["Parent One", "Parent Two", "s1", "s2", "s3", "s4", "f1", "f2", "f3"],
        "parent_account_id": [None, None, "P1", "P1", "M1", "P2", None, None, None],
        "ultimate_parent_account_id": [None, None, "P1", "P1", "P1", "P2", None, None, None],
        "country_code": ["US", "US", "US", "US", "US", "US", "DE", "DE", "BR"],
        "segment": ["ENT", "ENT", "ENT", "ENT", "ENT", "ENT", "SMB", "SMB", "MM"],
    }
)


LEADS = pl.DataFrame(
    {"lead_id": ["L1", "L2"], "matched_account_id": ["S1", None], "country_code": ["US", "DE"]}
)


NAMED = pl.DataFrame({"account_id": ["P1", "P2"]})


def small_report_data() -> report.ReportData:
    d = decisions(
        [{"record_type": "lead", "record_id": "L1", "owner_id": "A", "rule": "territory"}]
    )
    c = conflicts([{"record_id": "S1", "conflict_type": "named_subsidiary"}]).with_columns(
        day=pl.lit(datetime(2026, 11, 20).date())
    )
    return report.ReportData(
        since=SINCE,
        latest=datetime(2026, 11, 23, 9),
        decisions=d,
        conflicts=c,
        workload=pl.DataFrame({"rep_id": ["A", "B"], "workload_index": [50.0, 120.0]}),
        reps=pl.DataFrame(
            {
                "rep_id": ["A", "B"],
                "rep_name": ["Ann <b>", "Bo"],
                "team": ["East", "East"],
                "availability": ["available", "on_leave"],
            }
        ),
        accounts=ACCOUNTS,
        leads=LEADS,
        named_accounts=NAMED,
    )
