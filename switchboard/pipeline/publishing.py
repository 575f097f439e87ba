"""A run's outcome, recorded and published: decisions into routing.*, messages queued,
the outbox written and the sinks delivered to, with what stays pending made visible; or,
when a guard trips, only the guard's alert."""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import polars as pl

from switchboard import notify, publish, warehouse
from switchboard.alerts import delivery_failed, guard_tripped
from switchboard.engine.schema import CONFLICTS, DECISIONS, empty
from switchboard.guards import GuardTripped
from switchboard.pipeline.context import RunContext, connection, utc_now
from switchboard.pipeline.routing import Routed
from switchboard.summary import RunSummary, summarize


def record(ctx: RunContext, routed: Routed) -> None:
    with connection(ctx) as con:
        publish.record_run(
            con,
            run_id=ctx.run_id,
            decisions=routed.decisions,
            conflicts=routed.conflicts,
            rep_state=routed.rep_state,
            alerts=routed.alerts,
            round_robin=routed.round_robin,
        )


@dataclass(frozen=True)
class RunOutcome:
    """What a run recorded: its decisions, conflicts and alerts. Publishing reads nothing
    else of the run, so the frames may come from the warehouse (``stored_outcome``) or
    from wherever the run recorded them (switchboard.spark.publish: Spark tables)."""

    decisions: pl.DataFrame
    conflicts: pl.DataFrame
    alerts: pl.DataFrame


def stored_outcome(con: duckdb.DuckDBPyConnection, run_id: str) -> RunOutcome:
    """The run's rows of routing.decisions, routing.conflicts and routing.alerts."""

    def frame(table: str) -> pl.DataFrame:
        return warehouse.query(con, f"select * from {table} where run_id = ?", [run_id])

    return RunOutcome(
        decisions=frame("routing.decisions"),
        conflicts=frame("routing.conflicts"),
        alerts=frame("routing.alerts"),
    )


def _summary(ctx: RunContext, outcome: RunOutcome, status: str, message: str = "") -> RunSummary:
    return summarize(
        run_id=ctx.run_id,
        mode=ctx.mode,
        decisions=outcome.decisions,
        conflicts=outcome.conflicts,
        alerts=outcome.alerts,
        status=status,
        message=message,
    )


def publish_run(ctx: RunContext) -> RunSummary:
    """Queue and deliver this run's messages (and anything left pending), mark published."""
    with connection(ctx) as con:
        return publish_outcome(con, ctx, stored_outcome(con, ctx.run_id))


def publish_outcome(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, outcome: RunOutcome
) -> RunSummary:
    """Publish a decided run from what it recorded: queue its messages, write its outbox
    files, queue and deliver the notifications, mark it published in the ledger of
    ``con``."""
    summary = _summary(ctx, outcome, "published")
    publish.queue_messages(
        con,
        run_id=ctx.run_id,
        decisions=outcome.decisions,
        alerts=outcome.alerts,
        queues=ctx.config.queues,
    )
    if ctx.config.sinks.files:
        publish.write_outbox(
            con,
            run_id=ctx.run_id,
            outbox=ctx.outbox,
            summary_markdown=summary.to_markdown(),
            writeback_settings=ctx.config.writeback,
        )
    _notify(con, ctx, outcome.alerts, summary)
    summary = _deliver(con, ctx, summary)
    publish.set_status(con, ctx.run_id, "published")
    return summary


def _notify(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, alerts: pl.DataFrame, summary: RunSummary
) -> None:
    """Queue the run's messages to the notification sinks: one per recipient of its new
    alerts, and its summary (switchboard.notify)."""
    notify.queue(
        con,
        run_id=ctx.run_id,
        mode=ctx.mode,
        as_of=ctx.as_of,
        alerts=alerts,
        summary=summary,
        config=ctx.config,
        outbox=ctx.outbox,
    )


def deliver_pending(ctx: RunContext) -> publish.DeliveryReport:
    """Deliver what earlier runs left pending before this run does anything else, so a
    run that then fails (a broken export, a failed check) still gets them through."""
    with connection(ctx) as con:
        return notify.deliver(con, ctx.config.sinks)


def _deliver(con: duckdb.DuckDBPyConnection, ctx: RunContext, summary: RunSummary) -> RunSummary:
    """Send every pending webhook message, this run's and any an outage held back, and make
    what stays pending visible instead of silent: on the returned summary (the CLI exits
    non-zero on it), in the run's summary.md, and, once messages have waited longer than
    alerts.pending_hours, as a delivery_failed alert in the run's alerts.jsonl. That alert
    goes to the files sink whatever `sinks.files` says: the webhook is what is failing."""
    report = notify.deliver(con, ctx.config.sinks)
    if report.pending:
        stale = delivery_failed(
            publish.pending_messages(con),
            run_id=ctx.run_id,
            recipient=ctx.config.alerts.revops_recipient,
            hours=ctx.config.alerts.pending_hours,
            now=utc_now(),
        )
        if publish.raise_alerts(con, run_id=ctx.run_id, alerts=stale, outbox=ctx.outbox):
            counts = dict(summary.alerts_by_type)
            counts["delivery_failed"] = counts.get("delivery_failed", 0) + 1
            summary = replace(summary, alerts_by_type=counts)
    summary = replace(
        summary,
        pending_messages=report.pending,
        pending_error=report.error,
        pending_sinks=report.sinks,
    )
    publish.write_summary(ctx.outbox, ctx.run_id, summary.to_markdown())
    return summary


def stop(ctx: RunContext, error: GuardTripped) -> RunSummary:
    """A tripped guard: record it, publish only the guard_tripped alert, nothing else."""
    alerts = guard_tripped(
        ctx.run_id, error.guard, error.message, ctx.config.alerts.revops_recipient
    )
    with connection(ctx) as con:
        publish.record_stopped(con, run_id=ctx.run_id, alerts=alerts, message=error.message)
        summary = summarize(
            run_id=ctx.run_id,
            mode=ctx.mode,
            decisions=_no_decisions(),
            conflicts=empty(CONFLICTS),
            alerts=alerts,
            status="stopped",
            message=error.message,
        )
        publish.queue_messages(con, run_id=ctx.run_id, decisions=_no_decisions(), alerts=alerts)
        publish.write_outbox(
            con,
            run_id=ctx.run_id,
            outbox=ctx.outbox,
            summary_markdown=summary.to_markdown(),
            writeback_settings=ctx.config.writeback,
        )
        _notify(con, ctx, alerts, summary)
        return _deliver(con, ctx, summary)


def _no_decisions() -> pl.DataFrame:
    return empty(DECISIONS)


def done_summary(ctx: RunContext) -> RunSummary:
    """An unchanged export: nothing to decide, but what an outage held back is delivered
    now (once: message keys), so re-running the same export after the webhook recovers is
    enough."""
    with connection(ctx) as con:
        return answer_published(con, ctx, stored_outcome(con, ctx.run_id))


def answer_published(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, outcome: RunOutcome
) -> RunSummary:
    """The summary of a run already published, from what it recorded; nothing of it is
    published again, only what earlier runs left pending is delivered."""
    return _deliver(
        con,
        ctx,
        _summary(
            ctx,
            outcome,
            "published",
            f"snapshot unchanged since run {ctx.run_id}; nothing new to publish",
        ),
    )
