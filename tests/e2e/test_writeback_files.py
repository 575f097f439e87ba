"""The hourly run on the demo org writes Account.csv, Lead.csv and review.csv: every
decision of the run is in exactly one of them, as the CRM can apply it or with a reason."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.e2e.conftest import q

pytestmark = pytest.mark.e2e


def test_every_decision_is_an_owner_change_per_object_or_a_row_to_review(
    clean_hourly: tuple[Path, str],
) -> None:
    folder, run_id = clean_hourly
    decisions = q(folder / "w.duckdb", "select * from routing.decisions where run_id = ?", [run_id])
    outbox = folder / "outbox" / run_id

    def read(name: str) -> pl.DataFrame:
        return pl.read_csv(outbox / name, infer_schema=False)

    changes = decisions.filter(
        pl.col("owner_id").is_not_null() & (pl.col("rule") != "manager_review")
    )
    for record_type, name in (("account", "Account.csv"), ("lead", "Lead.csv")):
        written = read(name)
        assert written.columns == [
            "Id",
            "OwnerId",
            "Previous_Owner__c",
            "Routing_Rule__c",
            "Routing_Rationale__c",
            "Routed_At__c",
        ]
        expected = changes.filter(pl.col("record_type") == record_type)
        assert expected.height > 0
        assert sorted(written.select("Id", "OwnerId", "Routing_Rule__c").rows()) == sorted(
            expected.select("record_id", "owner_id", "rule").rows()
        )

    # The shipped routing.yml maps no queue: every queue or pool decision is for review.
    review = read("review.csv")
    to_review = decisions.filter(
        pl.col("owner_id").is_null() | (pl.col("rule") == "manager_review")
    )
    assert {"manager_review", "territory_pool", "fallback_queue"} <= set(to_review["rule"])
    assert sorted(review.select("record_type", "record_id", "rule").rows()) == sorted(
        to_review.select("record_type", "record_id", "rule").rows()
    )
    queued = review.filter(pl.col("rule") != "manager_review")
    reason = pl.col("reason").str
    unclear = queued.filter(
        ~reason.starts_with("no CRM id for ")
        | ~reason.contains(
            pl.format(" {} on {}s; add queues.", "queue", "record_type"), literal=True
        )
        | ~reason.ends_with(pl.format(".{} to routing.yml", "record_type"))
    )
    assert unclear.is_empty(), unclear["reason"].to_list()
    assert (
        review.filter(pl.col("rule") == "manager_review")["reason"]
        .str.starts_with("owner kept for manager review")
        .all()
    )
