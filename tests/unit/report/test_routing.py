"""switchboard.report.routing: latency and the routing log on hand-built decisions."""

from __future__ import annotations

import pytest

from switchboard import report

from .conftest import conflicts, decisions


def test_routing_report_latency_counts_only_new_records() -> None:
    d = decisions(
        [
            {
                "record_type": "lead",
                "record_id": "L1",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 60.0,
            },
            {
                "record_type": "lead",
                "record_id": "L2",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 180.0,
            },
            {
                "record_type": "lead",
                "record_id": "L3",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 300.0,
            },
            # a backlog record (older than 24 h) and a reassignment do not count as new
            {
                "record_type": "account",
                "record_id": "A1",
                "queue": "overflow:T",
                "rule": "overflow_queue",
                "latency_seconds": 90_000.0,
            },
            {
                "record_type": "account",
                "record_id": "A2",
                "previous_owner_id": "Z",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 10.0,
            },
            {
                "record_type": "account",
                "record_id": "A3",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
                "latency_seconds": 240.0,
            },
        ]
    )
    r = report.routing_report(
        d, conflicts([{"record_id": "A2", "conflict_type": "multi_territory"}])
    )
    assert r.records == 6 and (r.accounts, r.leads) == (3, 3)
    assert r.median_minutes == pytest.approx(3.5)  # 60, 180, 240, 300 s
    assert r.p90_minutes == pytest.approx((240 + 0.7 * 60) / 60)
    assert (r.overflow, r.fallback) == (1, 1)
    assert dict(r.by_rule.select("rule", "records").iter_rows())["territory"] == 4
    assert r.conflict_lines == ["account A2 (multi_territory): why"]
