"""The next hourly run on a generated org leaves the records the first one queued where they
are, unless the export changed them, and its summary counts only what it decided."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.hourly_routing import hourly_routing
from switchboard.summary import counted
from tests.e2e.conftest import AS_OF, copy_warehouse, q

pytestmark = pytest.mark.e2e

QUEUE_RULES = ("overflow_queue", "fallback_queue", "territory_pool")


def test_the_next_hourly_run_decides_again_only_the_queued_record_that_changed(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    wh = copy_warehouse(routed_org, tmp_path / "wh")
    first = q(wh, "select * from routing.decisions")
    queued = first.filter(pl.col("owner_id").is_null() & pl.col("queue").is_not_null())
    assert set(queued["rule"]) <= set(QUEUE_RULES)
    assert queued.height > 1 and queued["input_hash"].is_not_null().all()
    changed = queued.filter(pl.col("record_type") == "account").sort("record_id")["record_id"][0]

    # The next export: one new account (unrelated), and one queued account moved country.
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    accounts = pl.read_csv(snap / "accounts.csv", infer_schema=False)
    new = accounts.filter(pl.col("account_id") == "ACC-ACME").with_columns(
        account_id=pl.lit("ACC-NEXT-HOUR"),
        name=pl.lit("Nexthour"),
        owner_id=pl.lit(None, pl.String),
        created_at=pl.lit((AS_OF + timedelta(minutes=30)).isoformat()),
    )
    moved = pl.when(pl.col("account_id") == changed)
    pl.concat(
        [
            accounts.with_columns(
                country=moved.then(pl.lit("CA")).otherwise("country"),
                state=moved.then(pl.lit("ON")).otherwise("state"),
                postal_code=moved.then(pl.lit("M5V 2T6")).otherwise("postal_code"),
            ),
            new,
        ]
    ).write_csv(snap / "accounts.csv")

    summary = hourly_routing(
        snapshot=str(snap),
        warehouse=str(wh),
        outbox=str(tmp_path / "outbox"),
        as_of=(AS_OF + timedelta(hours=1)).isoformat(),
    )
    second = q(wh, "select * from routing.decisions where run_id = ?", [summary.run_id])
    decided = set(second.select("record_type", "record_id").iter_rows())
    assert ("account", "ACC-NEXT-HOUR") in decided
    was_queued = set(queued.select("record_type", "record_id").iter_rows())
    assert decided & was_queued == {("account", changed)}

    # The summary (and the CLI table and summary.md made from it) counts this run only.
    assert summary.records == second.height
    assert summary.by_rule == dict(second.group_by("rule").len().iter_rows())
    queue_decisions = second.filter(pl.col("rule").is_in(QUEUE_RULES))
    assert sum(summary.by_rule.get(rule, 0) for rule in QUEUE_RULES) == queue_decisions.height
    assert set(queue_decisions["record_id"]) <= {changed, "ACC-NEXT-HOUR"}
    markdown = (tmp_path / "outbox" / summary.run_id / "summary.md").read_text()
    assert (
        f"{counted(summary.accounts, 'account')} and {counted(summary.leads, 'lead')} routed"
    ) in markdown
