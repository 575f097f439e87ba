"""The stages of a routing run as plain functions; flows/ wraps each in a Prefect task.

Every stage opens its own warehouse connection and closes it before returning, because
DuckDB allows one writer per file and dbt opens the file itself between our stages.
The caller holds ``warehouse.run_lock`` for the whole run.

The modules, by job: `context` (the run's identity and settings), `ledger` (registering
the run, resuming or closing earlier attempts), `marts` (the ingest and transform stages
and the bookkeeping of what the marts were built from), `inputs` (what the engine reads),
`routing` (the route stage and the checks on its decisions), `publishing` (recording,
publishing and delivering a run's outcome, or a guard's stop), `watch` (what keeps an
arrivals pass quick) and `scratch` (throw-away copies for dry runs and what-ifs).

The package exposes the stages themselves: switchboard.stages looks each one up here by
name when it runs, so a test can replace a stage on this package.
"""

from switchboard.pipeline.context import RunContext, make_context
from switchboard.pipeline.ledger import prepare
from switchboard.pipeline.marts import ingest, marts_are_current, refresh_as_of_views, transform
from switchboard.pipeline.publishing import deliver_pending, done_summary, publish_run, record, stop
from switchboard.pipeline.routing import Routed, check_output, guard, route

__all__ = [
    "Routed",
    "RunContext",
    "check_output",
    "deliver_pending",
    "done_summary",
    "guard",
    "ingest",
    "make_context",
    "marts_are_current",
    "prepare",
    "publish_run",
    "record",
    "refresh_as_of_views",
    "route",
    "stop",
    "transform",
]
