"""The stage sequence of every routing run, written once.

prepare → (deliver pending) → ingest → transform (or, reusing the day's marts, the as-of
views) → route → check → guard → record → publish, under the run lock; a tripped guard
stops the run instead (stop), and an export that was already published is only delivered
(deliver). What each stage takes in comes from the run's plan (switchboard.plans); the
stages themselves are the functions of switchboard.pipeline.

Who calls a stage is the caller's business: `run()` takes a *runner* that wraps each
stage. Prefect flows run every stage as a task (flows/tasks.py), the what-if and the
bench call the functions directly (`run_direct`, or a timing runner), and every runner
reports progress through switchboard.progress, so the CLI shows the same stages
whichever ran them.

A run on the Spark target (a context with a ``spark_home``) goes through the same
sequence; the stages that touch the book are switchboard.spark.stages' (`Stage.module`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from switchboard import pipeline, progress, warehouse
from switchboard.guards import GuardTripped
from switchboard.pipeline import Routed, RunContext
from switchboard.summary import RunSummary


@dataclass(frozen=True)
class Stage:
    """One step of a run: ``name`` names its Prefect task and bench timing, ``label`` is
    what progress shows, ``function`` the switchboard.pipeline function that does it
    (looked up when called, so a test can replace it)."""

    name: str
    label: str
    function: str

    def __call__(self, *args: Any) -> Any:
        return getattr(self.module(*args), self.function)(*args)

    def module(self, *args: Any) -> ModuleType:
        """Where the stage's function is: switchboard.pipeline, or for a run on the Spark
        target (a context with a ``spark_home``) switchboard.spark.stages where it
        defines the function (the stages that touch the book)."""
        ctx = args[0] if args else None
        if isinstance(ctx, RunContext) and ctx.spark_home is not None:
            from switchboard.spark import stages as on_spark

            if hasattr(on_spark, self.function):
                return on_spark
        return pipeline


PREPARE = Stage("prepare", "prepare", "prepare")
DELIVER_PENDING = Stage("deliver-pending", "deliver pending", "deliver_pending")
INGEST = Stage("ingest", "ingest", "ingest")
TRANSFORM = Stage("dbt-build", "dbt build", "transform")
AS_OF_VIEWS = Stage("as-of-views", "dbt as-of views", "refresh_as_of_views")
ROUTE = Stage("route", "route", "route")
CHECK = Stage("check-output", "check", "check_output")
GUARD = Stage("guard", "guards", "guard")
RECORD = Stage("record", "record", "record")
PUBLISH = Stage("publish", "publish", "publish_run")
STOP = Stage("stop", "stop", "stop")
DELIVER = Stage("deliver", "deliver", "done_summary")

STAGES = (
    PREPARE,
    DELIVER_PENDING,
    INGEST,
    TRANSFORM,
    AS_OF_VIEWS,
    ROUTE,
    CHECK,
    GUARD,
    RECORD,
    PUBLISH,
    STOP,
    DELIVER,
)


class Runner(Protocol):
    """Runs one stage with its arguments and returns what the stage returns."""

    def __call__(self, stage: Stage, *args: Any) -> Any: ...


def run_direct(stage: Stage, *args: Any) -> Any:
    """Call the stage in this process, reporting progress."""
    with progress.stage(stage.label):
        return stage(*args)


def run(
    ctx: RunContext, runner: Runner = run_direct, lock_wait_seconds: float = 0
) -> RunSummary | Routed:
    """Run ``ctx``'s plan under the run lock; return the published summary, or, for a dry
    run, what the engine decided (nothing is recorded or published).

    Resumes a run that recorded its decisions but died before publishing, and publishes
    nothing for an export that was already published (but still delivers what earlier
    runs left pending). A tripped guard records the stop, publishes only its alert and
    raises GuardTripped.
    """
    with warehouse.run_lock(ctx.warehouse, wait_seconds=lock_wait_seconds):
        ctx, todo = runner(PREPARE, ctx)
        if todo == "done":
            summary: RunSummary = runner(DELIVER, ctx)
            return summary
        if todo == "route":
            if ctx.plan.delivers_pending_first and not ctx.dry_run:
                # Earlier runs' messages first, so a run that then fails still gets them
                # through. Never in a dry run: its warehouse is a scratch copy.
                runner(DELIVER_PENDING, ctx)
            try:  # guards trip on the files (ingest), the inputs (route) or the decisions
                if not pipeline.marts_are_current(ctx):
                    runner(INGEST, ctx)
                    runner(TRANSFORM, ctx)
                else:  # the views reading the as-of hold the build's
                    runner(AS_OF_VIEWS, ctx)
                routed: Routed = runner(ROUTE, ctx)
                runner(CHECK, ctx, routed)
                if ctx.dry_run:
                    return routed
                runner(GUARD, ctx, routed)
            except GuardTripped as error:
                if not ctx.dry_run:
                    runner(STOP, ctx, error)
                raise
            runner(RECORD, ctx, routed)
        published: RunSummary = runner(PUBLISH, ctx)
        return published
