"""Column schemas of the engine's outputs and the run ledger; routing.* tables are created
from these (switchboard.warehouse.ensure_routing_tables) and declared to dbt as sources."""

from __future__ import annotations

import polars as pl

from switchboard import tables
from switchboard.rules import RULE_NAMES

RECORD_TYPES = ("account", "lead")

# Every value of routing.decisions.rule (switchboard.rules).
RULES = RULE_NAMES

CONFLICT_TYPES = ("multi_territory", "named_subsidiary", "pipeline_owner_mismatch")

CANDIDATE = pl.Struct(
    {
        "rule": pl.String(),
        "territory_id": pl.String(),
        "owner_id": pl.String(),
        "queue": pl.String(),
    }
)

DECISIONS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "decided_at": pl.Datetime("us"),
    "record_type": pl.String(),
    "record_id": pl.String(),
    "previous_owner_id": pl.String(),
    "owner_id": pl.String(),
    "queue": pl.String(),
    "rule": pl.String(),
    "territory_id": pl.String(),
    "conflict": pl.Boolean(),
    "candidates": pl.List(pl.String()),
    "rationale": pl.String(),
    "rules_version": pl.String(),
    "latency_seconds": pl.Float64(),
}

# routing.decisions: the engine's decisions as a run records them, with what each depended
# on (switchboard.queued: a record left in a queue is not decided again while its
# input_hash stands). The engine does not know the history, so it leaves this to the
# pipeline.
RECORDED_DECISIONS: dict[str, pl.DataType] = {**DECISIONS, "input_hash": pl.String()}

CONFLICTS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "record_type": pl.String(),
    "record_id": pl.String(),
    "conflict_type": pl.String(),
    "candidates": pl.List(CANDIDATE),
    "resolution": pl.String(),
    "owner_id": pl.String(),
    "queue": pl.String(),
    "rationale": pl.String(),
}

REP_STATE: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "is_overflowing": pl.Boolean(),
    "rr_position": pl.Int64(),
    "updated_at": pl.Datetime("us"),
}

# Where each round-robin territory's rotation stands (switchboard.engine.rotation): the
# position the next run starts from, in the cycle cycle_key names.
ROUND_ROBIN: dict[str, pl.DataType] = {
    "territory_id": pl.String(),
    "cycle_key": pl.String(),
    "position": pl.Int64(),
    "updated_at": pl.Datetime("us"),
}

# Not a table: skills leads routed to a territory require that no member of it has
# (switchboard.alerts turns each row into a rule_gap alert).
SKILL_GAPS: dict[str, pl.DataType] = {
    "territory_id": pl.String(),
    "territory_name": pl.String(),
    "queue": pl.String(),
    "skill": pl.String(),
    "leads": pl.Int64(),
    "lead_ids": pl.List(pl.String()),
}

# Not a table: the leads whose first-touch SLA ran out this run (switchboard.engine.sla),
# each re-routed (rule sla_reroute) or kept for manager review; switchboard.alerts turns
# each row into an sla_breached alert. ``reroute`` is the re-route this decision is (1 for
# the first), null for a manager review; ``reroutes_before`` those before it.
SLA_BREACHES: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "previous_owner_id": pl.String(),
    "owner_id": pl.String(),
    "rule": pl.String(),
    "territory_id": pl.String(),
    "territory_name": pl.String(),
    "clock_started_at": pl.Datetime("us"),
    "first_touch_minutes": pl.Int64(),
    "reroute": pl.Int64(),
    "reroutes_before": pl.Int64(),
    "max_reroutes": pl.Int64(),
}

# The run ledger, written by switchboard.publish. Declared here with the engine's outputs so
# that every routing.* table the dbt project reads exists before the first dbt build.
RUNS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "fingerprint": pl.String(),
    "mode": pl.String(),
    "snapshot": pl.String(),
    "as_of": pl.Datetime("us"),
    "rules_version": pl.String(),
    "status": pl.String(),  # started | decided | published | stopped | abandoned
    "message": pl.String(),
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "accepted_guards": pl.List(pl.String()),  # guards accepted for this run (--accept-guard)
}

# The records an arrivals pass routes, written by its ingest (switchboard.ingest): the new
# accounts and leads it appended to raw, plus those of earlier passes that never decided.
ARRIVAL_SCOPE: dict[str, pl.DataType] = {
    "record_type": pl.String(),  # account | lead
    "record_id": pl.String(),
    "run_id": pl.String(),  # the pass that ingested the record
}

ROUTING_TABLES: dict[str, dict[str, pl.DataType]] = {
    tables.DECISIONS: RECORDED_DECISIONS,
    tables.CONFLICTS: CONFLICTS,
    tables.REP_STATE: REP_STATE,
    tables.ROUND_ROBIN: ROUND_ROBIN,
    tables.RUNS: RUNS,
    tables.ARRIVAL_SCOPE: ARRIVAL_SCOPE,
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
