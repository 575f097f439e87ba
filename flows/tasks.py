"""Prefect tasks around the pipeline stages, and the shared body of every routing flow.

Tasks carry no logic of their own. Inputs are frames and paths, so task caching is off;
retries are configured only where a stage does I/O that can fail transiently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NONE
from prefect.states import State

from switchboard import pipeline, progress, warehouse
from switchboard.faults import infrastructure_fault
from switchboard.guards import GuardTripped
from switchboard.pipeline import Routed, RunContext
from switchboard.summary import RunSummary

T = TypeVar("T")


def _stage(name: str, fn: Callable[..., T], *args: object) -> T:
    with progress.stage(name):
        return fn(*args)


@task(name="prepare", cache_policy=NONE)
def prepare(ctx: RunContext) -> tuple[RunContext, str]:
    return _stage("prepare", pipeline.prepare, ctx)


@task(name="ingest", cache_policy=NONE)
def ingest(ctx: RunContext) -> dict[str, dict[str, int]]:
    return _stage("ingest", pipeline.ingest, ctx)


@task(name="dbt-build", cache_policy=NONE)
def transform(ctx: RunContext) -> None:
    _stage("dbt build", pipeline.transform, ctx)


@task(name="route", cache_policy=NONE)
def route(ctx: RunContext) -> Routed:
    return _stage("route", pipeline.route, ctx)


@task(name="check-output", cache_policy=NONE)
def check_output(ctx: RunContext, routed: Routed) -> None:
    _stage("check", pipeline.check_output, ctx, routed)


@task(name="guard", cache_policy=NONE)
def guard(ctx: RunContext, routed: Routed) -> None:
    _stage("guards", pipeline.guard, ctx, routed)


@task(name="record", cache_policy=NONE)
def record(ctx: RunContext, routed: Routed) -> None:
    _stage("record", pipeline.record, ctx, routed)


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry publishing unless the machine is at fault: a full disk or a read-only outbox
    stays so for the next ten seconds, and the run resumes at publishing next time."""
    error = state.data
    return not (isinstance(error, BaseException) and infrastructure_fault(error) is not None)


@task(name="publish", cache_policy=NONE, retries=2, retry_delay_seconds=5,
      retry_condition_fn=_transient)
def publish(ctx: RunContext) -> RunSummary:
    return _stage("publish", pipeline.publish_run, ctx)


@task(name="stop", cache_policy=NONE)
def stop(ctx: RunContext, error: GuardTripped) -> RunSummary:
    return _stage("stop", pipeline.stop, ctx, error)


@task(name="deliver", cache_policy=NONE)
def deliver(ctx: RunContext) -> RunSummary:
    return _stage("deliver", pipeline.done_summary, ctx)


@task(name="deliver-pending", cache_policy=NONE)
def deliver_pending(ctx: RunContext) -> None:
    _stage("deliver pending", pipeline.deliver_pending, ctx)


def _said(summary: RunSummary) -> RunSummary:
    """Log deliveries left pending on the flow run, where a served deployment shows them
    (the CLI says so itself, on stderr and in its exit code)."""
    if summary.pending_messages:
        get_run_logger().warning(summary.delivery_line())
    return summary


def run_pipeline(ctx: RunContext, lock_wait_seconds: float = 0) -> RunSummary | Routed:
    """ingest → dbt build → engine → checks → guards → record → publish, under the run lock.

    Resumes a run that recorded its decisions but died before publishing, and publishes
    nothing for a snapshot that was already published (but still delivers what earlier
    runs left pending). A dry run stops after the guards and returns what it would have
    done.
    """
    with warehouse.run_lock(ctx.warehouse, wait_seconds=lock_wait_seconds):
        ctx, todo = prepare(ctx)
        if todo == "done":
            return _said(deliver(ctx))
        if todo == "route" and not ctx.dry_run and ctx.mode != "arrivals":
            # Earlier runs' messages first. Not in an arrivals pass: during an outage the
            # retries would delay its records' owners, and its publish step follows in
            # seconds. Never in a dry run: its warehouse is a scratch copy.
            deliver_pending(ctx)
        if todo == "route":
            try:  # guards trip on the files (ingest), the inputs (route) or the decisions
                if not pipeline.marts_are_current(ctx):
                    ingest(ctx)
                    transform(ctx)
                routed = route(ctx)
                check_output(ctx, routed)
                if ctx.dry_run:
                    return routed
                guard(ctx, routed)
            except GuardTripped as error:
                if not ctx.dry_run:
                    stop(ctx, error)
                raise
            record(ctx, routed)
        return _said(publish(ctx))
