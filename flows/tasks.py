"""The stages of switchboard.stages as Prefect tasks: the runner every flow hands to its
run in switchboard.runs.

Tasks carry no logic of their own: each wraps one stage function. Inputs are frames and
paths, so task caching is off; retries are configured only where a stage does I/O that
can fail transiently (publishing).
"""

from __future__ import annotations

from typing import Any

from prefect import Task, get_run_logger
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext
from prefect.states import State

from switchboard import progress, stages
from switchboard.faults import infrastructure_fault
from switchboard.summary import RunSummary


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry publishing unless the machine is at fault: a full disk or a read-only outbox
    stays so for the next ten seconds, and the run resumes at publishing next time."""
    error = state.data
    return not (isinstance(error, BaseException) and infrastructure_fault(error) is not None)


def _task(stage: stages.Stage) -> Task[..., Any]:
    if stage is stages.PUBLISH:
        return Task(
            stage.__call__,
            name=stage.name,
            cache_policy=NONE,
            retries=2,
            retry_delay_seconds=5,
            retry_condition_fn=_transient,
        )
    return Task(stage.__call__, name=stage.name, cache_policy=NONE)


TASKS: dict[str, Task[..., Any]] = {stage.name: _task(stage) for stage in stages.STAGES}
publish = TASKS[stages.PUBLISH.name]


def _in_flow_run() -> bool:
    return FlowRunContext.get() is not None


def run_as_task(stage: stages.Stage, *args: Any) -> Any:
    """A stages.Runner: the stage as a Prefect task run, with progress around it. Outside
    a flow run (a flow's plain function, called by a one-shot command without a Prefect
    API) the stage is called directly."""
    if not _in_flow_run():
        return stages.run_direct(stage, *args)
    with progress.stage(stage.label):
        return TASKS[stage.name](*args)


def said(summary: RunSummary) -> RunSummary:
    """Log deliveries left pending on the flow run, where a served deployment shows them
    (the CLI says so itself, on stderr and in its exit code)."""
    if summary.pending_messages and _in_flow_run():
        get_run_logger().warning(summary.delivery_line())
    return summary
