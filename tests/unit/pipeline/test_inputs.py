"""Owners Switchboard published that the CRM export does not show yet."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from switchboard import publish
from switchboard.engine.schema import DECISIONS
from switchboard.pipeline.inputs import pending_owners, with_pending_owners
from switchboard.warehouse import write_table

AS_OF = datetime(2026, 3, 2, 9, 0)


def decision(
    run_id: str,
    record_id: str,
    previous: str | None,
    owner: str | None,
    rule: str = "territory",
    record_type: str = "account",
) -> dict[str, object]:
    return {
        "run_id": run_id,
        "decided_at": AS_OF,
        "record_type": record_type,
        "record_id": record_id,
        "previous_owner_id": previous,
        "owner_id": owner,
        "rule": rule,
    }


def warehouse_with(
    runs: list[tuple[str, str, datetime]], decisions: list[dict[str, object]]
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    publish.ensure_tables(con)
    for run_id, status, as_of in runs:
        publish.start_run(
            con,
            run_id=run_id,
            fp=run_id,
            mode="hourly",
            snapshot=Path("."),
            as_of=as_of,
            rules_version="v",
        )
        publish.set_status(con, run_id, status)
    frame = pl.DataFrame(
        decisions,
        schema_overrides={k: DECISIONS[k] for k in ("decided_at", "previous_owner_id", "owner_id")},
    )
    write_table(
        con,
        "routing.decisions",
        frame.select(
            [pl.col(c) if c in frame.columns else pl.lit(None).alias(c) for c in DECISIONS]
        ).cast(DECISIONS),  # type: ignore[arg-type]
        mode="append",
    )
    return con


def test_the_latest_published_assignment_to_a_rep_is_pending() -> None:
    con = warehouse_with(
        runs=[
            ("old", "published", AS_OF - timedelta(days=10)),
            ("h1", "published", AS_OF - timedelta(hours=2)),
            ("h2", "published", AS_OF - timedelta(hours=1)),
            ("died", "started", AS_OF - timedelta(minutes=5)),
            ("now", "published", AS_OF),
        ],  # this run's own as-of
        decisions=[
            decision("h1", "A1", None, "R1"),
            decision("h2", "A1", None, "R2"),  # later: wins
            decision("h1", "A2", "L", "R1"),
            decision("died", "A2", "L", "R9"),  # never published
            decision("h2", "A3", "L", "L", rule="manager_review"),
            decision("h2", "A4", None, None, rule="overflow_queue"),
            decision("old", "A5", None, "R5"),  # beyond PENDING_DAYS
            decision("now", "A6", None, "R6"),
            decision("h1", "L1", None, "R3", record_type="lead"),
        ],
    )
    pending = pending_owners(con, AS_OF).sort("record_id")
    assert pending.rows() == [
        ("account", "A1", None, "R2"),
        ("account", "A2", "L", "R1"),
        ("lead", "L1", None, "R3"),
    ]


def test_a_pending_owner_stands_until_the_crm_shows_another() -> None:
    pending = pl.DataFrame(
        {
            "record_type": ["account", "account", "account", "lead"],
            "record_id": ["A1", "A2", "A3", "A1"],
            "previous_owner_id": [None, "L", "L", None],
            "owner_id": ["R1", "R2", "R2", "R9"],
        }
    )
    accounts = pl.LazyFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "owner_id": [None, "L", "R3", None],  # A3: someone in the CRM chose R3 since
            "tier": [1, 2, 3, 4],
        }
    )
    out = with_pending_owners(accounts, pending, "account", "account_id").collect()
    assert out.columns == ["account_id", "owner_id", "tier"]
    assert out.rows() == [("A1", "R1", 1), ("A2", "R2", 2), ("A3", "R3", 3), ("A4", None, 4)]
