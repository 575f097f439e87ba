"""Deliveries are never silent: what a run leaves pending shows on its summary, in its
summary.md and, past alerts.pending_hours, as a delivery_failed alert in alerts.jsonl; every
run (an unchanged export too) and `switchboard publish --retry` deliver it, once."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from switchboard import notify, pipeline, publish, warehouse
from switchboard.cli import EXIT_PENDING, app
from switchboard.config import DEFAULT_CONFIG_PATH, RoutingConfig, load_config
from switchboard.config.sinks import Sinks, Webhook
from switchboard.pipeline import RunContext
from switchboard.summary import RunSummary
from tests.unit.publish.test_outbox import alerts, decisions
from tests.webhook_server import Sink, webhook_sink

AS_OF = datetime(2026, 11, 23, 9, 0)
RUN = "20261123T090000-hourly-abcdef12"
FAST = Webhook(timeout_seconds=0.5, max_attempts=2, backoff_seconds=0.01)


def settings(url: str) -> RoutingConfig:
    return RoutingConfig(sinks=Sinks(webhook=FAST.model_copy(update={"url": url})))


@pytest.fixture
def published(tmp_path: Path) -> RunContext:
    """A published run whose two webhook messages (the manager's, with a pipeline handoff,
    and the run summary) were queued and its outbox written, as publish_run leaves them
    before delivery."""
    ctx = RunContext(
        snapshot=tmp_path,
        warehouse=tmp_path / "w.duckdb",
        outbox=tmp_path / "outbox",
        config=RoutingConfig(),
        as_of=AS_OF,
        run_id=RUN,
    )
    con = warehouse.connect(ctx.warehouse)
    try:
        publish.ensure_tables(con)
        publish.start_run(
            con,
            run_id=RUN,
            fp="fp",
            mode="hourly",
            snapshot=tmp_path,
            as_of=AS_OF,
            rules_version="v",
        )
        d = decisions({"run_id": RUN, "previous_owner_id": "OLD"})
        a = alerts({"run_id": RUN})
        warehouse.write_table(con, "routing.decisions", d, mode="append")
        warehouse.write_table(con, "routing.alerts", a, mode="append")
        publish.queue_messages(con, run_id=RUN, decisions=d, alerts=a)
        publish.write_outbox(con, run_id=RUN, outbox=ctx.outbox, summary_markdown="# run")
        notify.queue(
            con,
            run_id=RUN,
            mode="hourly",
            as_of=AS_OF,
            alerts=a,
            summary=RunSummary(run_id=RUN, mode="hourly", status="published"),
            config=settings("http://127.0.0.1:9/queued"),
            outbox=ctx.outbox,
        )
        publish.set_status(con, RUN, "published")
    finally:
        con.close()
    return ctx


def q(ctx: RunContext, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(ctx.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def file_alerts(ctx: RunContext) -> list[dict[str, object]]:
    path = ctx.outbox / RUN / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def age_messages(ctx: RunContext, hours: float) -> None:
    con = warehouse.connect(ctx.warehouse)
    try:
        con.execute(
            "update routing.outbox_messages set created_at = created_at - to_hours(?)", [hours]
        )
    finally:
        con.close()


def test_an_unchanged_export_delivers_what_an_outage_held_back_exactly_once(
    published: RunContext,
) -> None:
    summary_md = published.outbox / RUN / "summary.md"
    with webhook_sink(Sink(script=[500])) as down:
        ctx = replace(published, config=settings(down.url))
        first = pipeline.done_summary(ctx)
    assert down.received == [] and down.attempts == FAST.max_attempts
    assert (first.pending_messages, first.pending_error) == (2, "HTTP 500")
    assert first.delivery_line().startswith("deliveries pending: 2 messages to the webhook")
    assert "## Deliveries pending" in summary_md.read_text()
    assert "HTTP 500" in summary_md.read_text()
    # Fresh messages: no delivery_failed alert yet, only the run's own alert in the file.
    assert [a["type"] for a in file_alerts(published)] == ["pipeline_handoff"]

    with webhook_sink(Sink()) as healthy:
        ctx = replace(published, config=settings(healthy.url))
        second = pipeline.done_summary(ctx)
        third = pipeline.done_summary(ctx)
    keys = Counter(str(m["key"]) for m in healthy.received)
    assert keys == Counter({f"webhook|alerts|{RUN}|MGR": 1, f"webhook|summary|{RUN}": 1})
    assert second.pending_messages == third.pending_messages == 0
    assert second.pending_error is None
    assert q(published, "select distinct status from routing.outbox_messages") == [("sent",)]
    # The note goes once the messages are through.
    assert "Deliveries pending" not in summary_md.read_text()


def test_messages_pending_past_pending_hours_raise_one_delivery_failed_alert_in_the_files(
    published: RunContext,
) -> None:
    age_messages(published, 5)  # the default pending_hours is 4
    with webhook_sink(Sink(script=[503])) as down:
        ctx = replace(published, config=settings(down.url))
        summary = pipeline.done_summary(ctx)
        again = pipeline.done_summary(ctx)
    assert summary.pending_messages == again.pending_messages == 2
    assert summary.alerts_by_type == {"pipeline_handoff": 1, "delivery_failed": 1}
    failed = [a for a in file_alerts(published) if a["type"] == "delivery_failed"]
    assert len(failed) == 1, "an outage is announced once, not at every run"
    (alert,) = failed
    assert alert["severity"] == "high" and alert["recipient_id"] == "revops"
    assert "2 messages to the webhook" in str(alert["message"])
    assert "HTTP 503" in str(alert["message"])
    assert q(
        published,
        f"select count(*) from routing.alerts where type = 'delivery_failed' and run_id = '{RUN}'",
    ) == [(1,)]
    # It went to the files only: nothing about it was queued for the failing webhook.
    assert q(
        published,
        "select count(*) from routing.outbox_messages "
        "where sink = 'webhook' and payload like '%delivery_failed%'",
    ) == [(0,)]
    assert "delivery_failed: 1" in (published.outbox / RUN / "summary.md").read_text()


def test_messages_younger_than_pending_hours_raise_no_alert(published: RunContext) -> None:
    age_messages(published, 3)
    with webhook_sink(Sink(script=[500])) as down:
        ctx = replace(published, config=settings(down.url))
        summary = pipeline.done_summary(ctx)
    assert summary.pending_messages == 2
    assert "delivery_failed" not in summary.alerts_by_type
    assert q(published, "select count(*) from routing.alerts where type = 'delivery_failed'") == [
        (0,)
    ]


def test_no_webhook_url_leaves_earlier_messages_pending_and_says_why(published: RunContext) -> None:
    summary = pipeline.done_summary(published)  # RoutingConfig(): no URL configured
    assert summary.pending_messages == 2
    assert summary.pending_error == publish.NO_WEBHOOK_URL


def test_pending_hours_is_a_documented_setting_with_a_default_of_four() -> None:
    assert load_config().alerts.pending_hours == 4
    shipped = yaml.safe_load(Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8"))
    assert shipped["alerts"]["pending_hours"] == 4
    assert "pending_hours" in Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8")


# ---------------------------------------------------------------- switchboard publish --retry

runner = CliRunner()


def fast_config(tmp_path: Path) -> Path:
    data = yaml.safe_load(Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8"))
    data["sinks"]["webhook"].update(timeout_seconds=0.5, max_attempts=2, backoff_seconds=0.01)
    path = tmp_path / "routing.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def retry(ctx: RunContext, config: Path, *extra: str) -> object:
    return runner.invoke(
        app, ["publish", "--warehouse", str(ctx.warehouse), "--config", str(config), *extra]
    )


def test_publish_retry_delivers_pending_messages_once_and_exits_5_while_any_remain(
    published: RunContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fast_config(tmp_path)
    with webhook_sink(Sink(script=[500])) as down:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", down.url)
        failing = retry(published, config, "--retry")
    assert failing.exit_code == EXIT_PENDING, failing.output
    (line,) = failing.stderr.strip().splitlines()
    assert line.startswith("deliveries pending: 2 messages to the webhook")
    assert "HTTP 500" in line
    assert "Still pending (2)" in failing.stdout
    assert "summary" in failing.stdout and "HTTP 500" in failing.stdout

    with webhook_sink(Sink()) as healthy:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", healthy.url)
        listed = retry(published, config)  # without --retry: lists, sends nothing
        assert listed.exit_code == EXIT_PENDING and healthy.attempts == 0
        delivered = retry(published, config, "--retry")
        again = retry(published, config, "--retry")
    assert delivered.exit_code == 0, delivered.output
    assert "Delivered 2 pending messages" in delivered.stdout
    assert "no message is pending" in delivered.stdout and delivered.stderr == ""
    assert again.exit_code == 0 and "Nothing delivered" in again.stdout
    keys = [str(m["key"]) for m in healthy.received]
    assert sorted(keys) == sorted([f"webhook|alerts|{RUN}|MGR", f"webhook|summary|{RUN}"])


def test_publish_retry_takes_the_run_lock(published: RunContext, tmp_path: Path) -> None:
    with warehouse.run_lock(published.warehouse):
        result = retry(published, fast_config(tmp_path), "--retry")
    assert result.exit_code == 4
    assert "is in use" in result.stderr


def test_publish_retry_on_a_missing_warehouse_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["publish", "--retry", "--warehouse", str(tmp_path / "nowhere.duckdb")]
    )
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nowhere.duckdb").exists()


def test_the_delivery_failed_alert_counts_only_stale_messages() -> None:
    import polars as pl

    from switchboard.alerts import delivery_failed
    from switchboard.rules import ALERT_TYPES

    now = datetime(2026, 11, 23, 12, 0)
    pending = pl.DataFrame(
        {
            "message_key": ["k-new", "k-old", "k-older"],
            "sink": ["webhook"] * 3,
            "last_error": [None, "HTTP 500", "HTTP 502"],
            "created_at": [
                now - timedelta(hours=1),
                now - timedelta(hours=5),
                now - timedelta(hours=6),
            ],
        }
    )
    (alert,) = delivery_failed(pending, run_id="r", recipient="revops", hours=4, now=now).iter_rows(
        named=True
    )
    assert "delivery_failed" in ALERT_TYPES
    assert alert["alert_key"] == "delivery_failed|webhook|k-older"
    assert alert["message"].startswith(
        "2 messages to the webhook have been undelivered for "
        "more than 4 h (oldest since 2026-11-23 06:00 UTC"
    )
    assert "last error: HTTP 500" in alert["message"]
    assert delivery_failed(
        pending.head(1), run_id="r", recipient="revops", hours=4, now=now
    ).is_empty()
