"""Report input of a large org, made directly in the marts' shapes (no routing run): the
1M-account book of the bench has 1,000 reps and 200 territories, and a week of hourly runs
routes tens of thousands of records. The frames hold what the reports read of such a book,
not the whole book: the routed records, their accounts and leads, every rep and territory."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from switchboard import report
from switchboard.engine.schema import CANDIDATE, CONFLICTS, DECISIONS
from tests.coverage_marts import coverage_marts

SINCE = datetime(2026, 11, 16, 9)
LATEST = datetime(2026, 11, 23, 9)
REGIONS = ("NA-West", "NA-East", "NA-Central", "Canada", "EMEA", "APAC")
SEGMENTS = ("Enterprise", "Mid-Market", "SMB", "Commercial")
FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dmitri",
    "Elif",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
)
LAST = (
    "Abbott",
    "Bergström",
    "Castellanos-Rivera",
    "Dubois",
    "Eze",
    "Fitzgerald",
    "Gonzalez",
    "Hakobyan",
    "Ivanova",
    "Jablonski",
    "Kowalczyk",
    "Lindqvist",
    "Montgomery-Smythe",
    "Nakamura",
    "Okonkwo",
    "Papadopoulos",
    "Quispe",
    "Rasmussen",
    "Schwarzenegger",
    "Thorvaldsdóttir",
)
# Reps who take no new records, by availability: the rest are available.
AWAY = {"on_leave": 30, "terminated": 15, "deactivated": 5, "data_problem": 4, "not_in_hr": 2}


def large_org(
    reps: int = 1000,
    territories: int = 200,
    decisions: int = 24_000,
    conflicts: int = 3_000,
    seed: int = 5,
) -> report.ReportData:
    """A ReportData of ``reps`` reps in 24 teams (some names long enough to be shortened)
    and ``territories`` territories, one week of ``decisions`` decisions and
    ``conflicts`` conflicts spread over seven days."""
    rng = np.random.default_rng(seed)
    teams = [f"{r} {s}" for r in REGIONS for s in SEGMENTS]
    availability = np.array(
        ["available"] * (reps - sum(AWAY.values())) + [k for k, n in AWAY.items() for _ in range(n)]
    )
    rng.shuffle(availability)
    index = np.round(np.clip(rng.normal(80, 14, reps), 0, None), 2)
    index[rng.choice(reps, 40, replace=False)] += 35  # a tail over the high-water mark
    rep_ids = [f"REP-{i:04d}" for i in range(reps)]
    rep_frame = pl.DataFrame(
        {
            "rep_id": rep_ids,
            "rep_name": [f"{FIRST[i % 20]} {LAST[(i // 20) % 20]}" for i in range(reps)],
            "team": [teams[i % len(teams)] for i in range(reps)],
            "carries_accounts": [True] * reps,
            "availability": availability,
        }
    ).with_columns(
        is_valid_owner=pl.col("availability").is_in(["available", "on_leave", "data_problem"])
    )
    workload = pl.DataFrame(
        {
            "rep_id": rep_ids,
            "workload_index": index,
            "days_over_high_water": np.where(index >= 100, rng.integers(1, 30, reps), 0),
        }
    )

    rules = np.array(
        [
            "territory",
            "account_owner",
            "open_opportunity",
            "named_account",
            "overflow_queue",
            "fallback_queue",
            "territory_pool",
            "manager_review",
        ]
    )
    rule = rules[
        rng.choice(len(rules), decisions, p=[0.55, 0.25, 0.06, 0.03, 0.04, 0.03, 0.02, 0.02])
    ]
    is_account = rng.random(decisions) < 0.45
    record_id = [f"ACC-{i:07d}" if a else f"LEAD-{i:07d}" for i, a in enumerate(is_account)]
    decided = (
        pl.DataFrame(
            {
                "run_id": [f"run-{h}" for h in rng.integers(0, 168, decisions)],
                "minute": rng.integers(1, 7 * 24 * 60, decisions),
                "record_type": np.where(is_account, "account", "lead"),
                "record_id": record_id,
                "owner": np.array(rep_ids)[rng.integers(0, reps, decisions)],
                "rule": rule,
                "territory_id": [f"T-{i:03d}" for i in rng.integers(0, territories, decisions)],
                "conflict": rng.random(decisions) < 0.1,
                "latency_seconds": rng.gamma(2.0, 90.0, decisions),
            }
        )
        .with_columns(
            queued=pl.col("rule").is_in(["overflow_queue", "fallback_queue", "territory_pool"])
        )
        .select(
            "run_id",
            "record_type",
            "record_id",
            decided_at=pl.lit(SINCE) + pl.duration(minutes="minute"),
            previous_owner_id=pl.lit(None, pl.String),
            owner_id=pl.when(~pl.col("queued")).then(pl.col("owner")),
            queue=pl.when(pl.col("queued")).then(pl.format("queue-{}", "rule")),
            rule="rule",
            territory_id="territory_id",
            conflict="conflict",
            candidates=pl.lit([], pl.List(pl.String)),
            rationale=pl.lit("…"),
            rules_version=pl.lit("v1"),
            latency_seconds="latency_seconds",
        )
        .cast(DECISIONS)
    )  # type: ignore[arg-type]

    kinds = np.array(["multi_territory", "named_subsidiary", "pipeline_owner_mismatch"])

    def candidate(territory: pl.Expr) -> pl.Expr:
        return pl.struct(
            rule=pl.lit("territory"),
            territory_id=territory,
            owner_id=pl.lit(None, pl.String),
            queue=pl.lit(None, pl.String),
        )

    logged = (
        pl.DataFrame(
            {
                "record_id": np.array(record_id)[rng.integers(0, decisions, conflicts)],
                "conflict_type": kinds[rng.choice(3, conflicts, p=[0.5, 0.2, 0.3])],
                "a": rng.integers(0, territories, conflicts),
                "b": rng.integers(0, territories, conflicts),
                "days": rng.integers(0, 7, conflicts),
            }
        )
        .select(
            run_id=pl.lit("run-x"),
            record_type=pl.lit("account"),
            record_id="record_id",
            conflict_type="conflict_type",
            candidates=pl.concat_list(
                candidate(pl.format("T-{}", pl.col("a").cast(pl.String).str.zfill(3))),
                candidate(pl.format("T-{}", pl.col("b").cast(pl.String).str.zfill(3))),
            ),
            resolution=pl.lit("territory"),
            owner_id=pl.lit(rep_ids[0]),
            queue=pl.lit(None, pl.String),
            rationale=pl.lit("…"),
            day=pl.lit(date(2026, 11, 17)) + pl.duration(days="days"),
        )
        .cast({**CONFLICTS, "candidates": pl.List(CANDIDATE)})
    )  # type: ignore[arg-type]

    account_ids = [r for r, a in zip(record_id, is_account, strict=True) if a]
    countries = np.array(["US", "CA", "DE", "FR", "GB", "JP", "AU", "BR", "IN", "MX"])
    accounts = pl.DataFrame(
        {
            "account_id": account_ids,
            "account_name": [f"Account {a[4:]}" for a in account_ids],
            "parent_account_id": [None] * len(account_ids),
            "ultimate_parent_account_id": [None] * len(account_ids),
            "country_code": countries[rng.integers(0, 10, len(account_ids))],
            "segment": np.array(SEGMENTS)[rng.integers(0, 4, len(account_ids))],
            "owner_id": np.array(rep_ids)[rng.integers(0, reps, len(account_ids))],
            "has_valid_owner": rng.random(len(account_ids)) < 0.97,
        }
    )
    lead_ids = [r for r, a in zip(record_id, is_account, strict=True) if not a]
    leads = pl.DataFrame(
        {
            "lead_id": lead_ids,
            "matched_account_id": [
                account_ids[i] for i in rng.integers(0, len(account_ids), len(lead_ids))
            ],
            "country_code": countries[rng.integers(0, 10, len(lead_ids))],
            "email": [f"{lead.lower()}@example.com" for lead in lead_ids],
            "owner_id": np.array(rep_ids)[rng.integers(0, reps, len(lead_ids))],
        }
    )
    plan_ids = [f"T-{i:03d}" for i in range(territories)]
    members = pl.DataFrame(
        {
            "territory_id": [plan_ids[i % territories] for i in range(reps)],
            "rep_id": rep_ids,
            "rep_availability": availability,
            "rep_is_available": availability == "available",
        }
    )
    in_plan = rng.random(len(account_ids)) < 0.98  # 2 % of the accounts match no territory
    matches = pl.DataFrame(
        {
            "record_type": ["account"] * int(in_plan.sum()),
            "record_id": [a for a, m in zip(account_ids, in_plan, strict=True) if m],
            "territory_id": [plan_ids[i] for i in rng.integers(0, territories, int(in_plan.sum()))],
            "match_source": ["record"] * int(in_plan.sum()),
            "priority": [100] * int(in_plan.sum()),
        }
    )
    plan = coverage_marts(
        matches=matches,
        territories=pl.DataFrame(
            {
                "territory_id": plan_ids,
                "territory_name": [
                    f"{teams[i % len(teams)]} - District {i}" for i in range(territories)
                ],
                "priority": [100] * territories,
                "overflow_queue": [f"queue-{i % len(teams)}" for i in range(territories)],
            }
        ),
        members=members,
        accounts=accounts,
        leads=leads,
        reps=rep_frame,
    )
    return report.ReportData(
        since=SINCE,
        latest=LATEST,
        decisions=decided,
        conflicts=logged,
        workload=workload,
        reps=rep_frame,
        accounts=accounts,
        leads=leads,
        named_accounts=pl.DataFrame({"account_id": account_ids[:500]}),
        coverage=plan,
    )
