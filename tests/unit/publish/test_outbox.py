"""Publishing: outbox files, exactly-once message keys, the webhook sink's fault handling."""

from __future__ import annotations

import csv
import json
import socket
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from switchboard import notify, publish, warehouse
from switchboard.alerts import ALERTS
from switchboard.config import RoutingConfig
from switchboard.config.sinks import Sinks, Webhook
from switchboard.engine.schema import DECISIONS
from switchboard.summary import RunSummary
from tests.webhook_server import Sink, webhook_sink

AS_OF = datetime(2026, 11, 23, 9, 0)


def decisions(*rows: dict[str, object]) -> pl.DataFrame:
    base = {
        "run_id": "r1",
        "decided_at": AS_OF,
        "record_type": "account",
        "record_id": "A1",
        "previous_owner_id": None,
        "owner_id": "REP-1",
        "queue": None,
        "rule": "territory",
        "territory_id": "T1",
        "conflict": False,
        "candidates": [],
        "rationale": "because",
        "rules_version": "v",
        "latency_seconds": 60.0,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=DECISIONS)


def alerts(*rows: dict[str, object]) -> pl.DataFrame:
    """Alert rows over a default pipeline-handoff alert; no arguments gives one alert."""
    rows = rows or ({},)
    base = {
        "run_id": "r1",
        "type": "pipeline_handoff",
        "severity": "high",
        "recipient_id": "MGR",
        "record_type": "account",
        "record_id": "A1",
        "rep_id": "REP-9",
        "message": "hand off",
        "alert_key": "pipeline_handoff|A1|REP-9",
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=ALERTS)


@pytest.fixture
def con(tmp_path: Path):  # type: ignore[no-untyped-def]
    connection = warehouse.connect(tmp_path / "w.duckdb")
    publish.ensure_tables(connection)
    yield connection
    connection.close()


def test_outbox_files_hold_the_runs_new_messages(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = decisions(
        {"record_id": "A1", "previous_owner_id": "OLD", "owner_id": "REP-1"},
        {"record_id": "A2", "owner_id": None, "queue": "fallback-queue", "rule": "fallback_queue"},
        {
            "record_id": "A3",
            "previous_owner_id": "OLD",
            "owner_id": "OLD",
            "rule": "manager_review",
        },
    )
    new = publish.queue_messages(con, run_id="r1", decisions=d, alerts=alerts())
    assert new == 4  # two reassignments, a manager review (review.csv) and an alert
    folder = publish.write_outbox(
        con, run_id="r1", outbox=tmp_path / "outbox", summary_markdown="# summary"
    )
    rows = list(csv.DictReader((folder / "reassignments.csv").open()))
    assert [r["record_id"] for r in rows] == ["A1", "A2"]
    assert rows[0]["old_owner_id"] == "OLD" and rows[0]["new_owner_id"] == "REP-1"
    assert rows[1]["queue"] == "fallback-queue" and rows[1]["new_owner_id"] == ""
    assert set(rows[0]) == set(publish.REASSIGNMENT_COLUMNS)
    accounts = list(csv.DictReader((folder / "Account.csv").open()))
    assert [(r["Id"], r["OwnerId"]) for r in accounts] == [("A1", "REP-1")]
    review = list(csv.DictReader((folder / "review.csv").open()))
    assert [(r["record_id"], r["rule"]) for r in review] == [
        ("A2", "fallback_queue"),
        ("A3", "manager_review"),
    ]
    lines = (folder / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(x)["type"] for x in lines] == ["pipeline_handoff"]
    assert {"type", "severity", "recipient_id", "record_id", "rep_id", "message"} <= set(
        json.loads(lines[0])
    )
    assert (folder / "summary.md").read_text() == "# summary"


def test_second_run_with_the_same_content_publishes_nothing_new(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = decisions({"record_id": "A1", "previous_owner_id": "OLD"})
    assert publish.queue_messages(con, run_id="r1", decisions=d, alerts=alerts()) == 2
    again = d.with_columns(run_id=pl.lit("r2"))
    assert publish.queue_messages(con, run_id="r2", decisions=again, alerts=alerts()) == 0
    folder = publish.write_outbox(con, run_id="r2", outbox=tmp_path, summary_markdown="")
    assert list(csv.DictReader((folder / "reassignments.csv").open())) == []
    assert (folder / "alerts.jsonl").read_text() == ""


def test_formula_cells_are_neutralised(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = decisions(
        {
            "record_id": '=HYPERLINK("http://x","y")',
            "rationale": "+cmd|' /C calc'!A0",
            "previous_owner_id": "@SUM(1)",
        }
    )
    publish.queue_messages(con, run_id="r1", decisions=d, alerts=alerts().head(0))
    folder = publish.write_outbox(con, run_id="r1", outbox=tmp_path, summary_markdown="")
    row = next(csv.DictReader((folder / "reassignments.csv").open()))
    assert row["record_id"].startswith("'=")
    assert row["reason"].startswith("'+")
    assert row["old_owner_id"].startswith("'@")
    assert row["new_owner_id"] == "REP-1"


def _queue_webhook(con, n_alerts: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Two webhook messages: the recipient's alerts and the run summary."""
    rows = [{"record_id": f"A{i}", "alert_key": f"pipeline_handoff|A{i}"} for i in range(n_alerts)]
    queued = RoutingConfig(sinks=Sinks(webhook=Webhook(url="http://127.0.0.1:9/unused")))
    notify.queue(
        con,
        run_id="r1",
        mode="hourly",
        as_of=AS_OF,
        alerts=alerts(*rows),
        summary=RunSummary(run_id="r1", mode="hourly", status="published"),
        config=queued,
        outbox=None,
    )


FAST = Webhook(timeout_seconds=0.5, max_attempts=3, backoff_seconds=0.01)


def _pending(con) -> int:  # type: ignore[no-untyped-def]
    return con.execute(
        "select count(*) from routing.outbox_messages where sink = 'webhook' and status = 'pending'"
    ).fetchone()[0]


def test_webhook_delivers_once_with_idempotency_keys(con) -> None:  # type: ignore[no-untyped-def]
    _queue_webhook(con)
    with webhook_sink(Sink()) as sink:
        report = publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
        again = publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
    assert report.sent == 2 and report.pending == 0
    assert again.sent == 0  # nothing delivered twice
    keys = [r["key"] for r in sink.received]
    assert len(keys) == len(set(keys)) == 2
    assert all("text" in r["body"] for r in sink.received)  # Slack-compatible


def test_webhook_fails_twice_then_succeeds(con) -> None:  # type: ignore[no-untyped-def]
    _queue_webhook(con)
    with webhook_sink(Sink(script=[500, 502, 200])) as sink:
        report = publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
    assert report.sent == 2 and _pending(con) == 0
    assert sink.attempts == 4  # 3 for the first message, 1 for the second


def test_webhook_that_never_answers_is_left_pending_then_delivered(con) -> None:  # type: ignore[no-untyped-def]
    _queue_webhook(con)
    with webhook_sink(Sink(script=["hang"], hang_seconds=1.5)) as sink:
        report = publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
    assert report.sent == 0 and _pending(con) == 2
    error = con.execute(
        "select last_error from routing.outbox_messages where attempts > 0"
    ).fetchone()[0]
    assert "Timeout" in error
    with webhook_sink(Sink()) as sink:  # the next run gets it through, once
        report = publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
    assert report.sent == 2 and _pending(con) == 0 and len(sink.received) == 2


def test_webhook_honours_retry_after_on_429(con) -> None:  # type: ignore[no-untyped-def]
    _queue_webhook(con)
    with webhook_sink(Sink(script=[(429, {"Retry-After": "0"}), 200])) as sink:
        report = publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
    assert report.sent == 2 and sink.attempts == 3


def test_connection_refused_leaves_messages_pending(con) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _queue_webhook(con)
    report = publish.deliver_webhooks(
        con, FAST.model_copy(update={"url": f"http://127.0.0.1:{port}/hook"})
    )
    assert report.sent == 0 and _pending(con) == 2
    assert (
        "ConnectError"
        in con.execute("select max(last_error) from routing.outbox_messages").fetchone()[0]
    )


def test_client_error_is_not_retried(con) -> None:  # type: ignore[no-untyped-def]
    _queue_webhook(con)
    with webhook_sink(Sink(script=[400])) as sink:
        publish.deliver_webhooks(con, FAST.model_copy(update={"url": sink.url}))
    assert sink.attempts == 1 and _pending(con) == 2


def test_fingerprint_changes_with_content_and_parameters(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n")
    a = publish.fingerprint(tmp_path, "hourly")
    assert a == publish.fingerprint(tmp_path, "hourly")
    assert a != publish.fingerprint(tmp_path, "departure")
    (tmp_path / "accounts.csv").write_text("account_id\nA2\n")
    assert a != publish.fingerprint(tmp_path, "hourly")
