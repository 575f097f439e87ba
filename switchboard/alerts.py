"""Alerts raised by a run, derived from its decisions and the marts (pure Polars).

Each alert carries an ``alert_key``: the same situation always yields the same key, so
publishing can skip what an earlier run already announced (a pipeline handoff is
announced once, an over-capacity rep once a day, an orphaned account once per gap).

``message`` is the whole sentence, naming records by id (alerts.jsonl, routing.alerts);
``detail`` is what it says about its record or rep, without naming it, for the messages
that list records by name (switchboard.messages).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.rules import SEVERITIES, severity
from switchboard.summary import SINK_NAMES

ALERTS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "type": pl.String(),
    "severity": pl.String(),
    "recipient_id": pl.String(),
    "record_type": pl.String(),
    "record_id": pl.String(),
    "rep_id": pl.String(),
    "message": pl.String(),
    "detail": pl.String(),
    "alert_key": pl.String(),
}


def _finish(frame: pl.LazyFrame, run_id: str, key_parts: list[pl.Expr]) -> pl.LazyFrame:
    """Add run_id and the idempotency key, and put the columns in ALERTS order.

    The key is readable text rather than a hash so it stays stable across library versions.
    """
    parts = [p.cast(pl.String).fill_null("") for p in key_parts]
    key = pl.concat_str([pl.col("type"), *parts], separator="|")
    return frame.with_columns(run_id=pl.lit(run_id), alert_key=key).select(
        [pl.col(c).cast(t) for c, t in ALERTS.items()]
    )


def pipeline_handoffs(
    decisions: pl.LazyFrame, reps: pl.LazyFrame, run_id: str, fallback_recipient: str
) -> pl.LazyFrame:
    """A leaver's account with open pipeline stays put; the leaver's manager must hand it off."""
    managers = reps.select(
        pl.col("rep_id").alias("previous_owner_id"),
        "manager_id",
        pl.col("rep_name").alias("previous_owner_name"),
    )
    frame = (
        decisions.filter(pl.col("rule") == "manager_review")
        .join(managers, on="previous_owner_id", how="left")
        .select(
            type=pl.lit("pipeline_handoff"),
            severity=pl.lit(severity("pipeline_handoff")),
            recipient_id=pl.coalesce("manager_id", pl.lit(fallback_recipient)),
            record_type="record_type",
            record_id="record_id",
            rep_id="previous_owner_id",
            message=pl.format(
                "Hand off {} {}: owner {} is no longer valid and it has open pipeline.",
                "record_type",
                "record_id",
                pl.coalesce("previous_owner_name", "previous_owner_id"),
            ),
            detail=pl.format(
                "open pipeline, owner {} no longer valid: hand it off",
                pl.coalesce("previous_owner_name", "previous_owner_id"),
            ),
        )
    )
    return _finish(frame, run_id, [pl.col("record_id"), pl.col("rep_id")])


def sla_breached(
    breaches: pl.LazyFrame, reps: pl.LazyFrame, run_id: str, fallback_recipient: str
) -> pl.LazyFrame:
    """A lead its owner did not touch within the first-touch SLA was re-routed, or kept for
    manager review: the manager of the rep who let it lapse (the territory team's manager)
    hears of it. ``breaches`` is the engine's SLA_BREACHES frame. Announced once per lapse
    (lead, rep and the clock's start)."""
    names = reps.select("rep_id", "rep_name")
    managers = reps.select(pl.col("rep_id").alias("previous_owner_id"), "manager_id")
    lapsed = pl.coalesce("previous_owner_name", "previous_owner_id")
    outcome = (
        pl.when(pl.col("rule") == "sla_reroute")
        .then(
            pl.format(
                "re-routed ({} of {}) to {}",
                "reroute",
                "max_reroutes",
                pl.coalesce("owner_name", "owner_id"),
            )
        )
        .when(pl.col("reroutes_before") > 0)
        .then(
            pl.format(
                "kept for manager review after {} re-route{}",
                "reroutes_before",
                pl.when(pl.col("reroutes_before") == 1).then(pl.lit("")).otherwise(pl.lit("s")),
            )
        )
        .when(pl.col("max_reroutes") == 0)
        .then(pl.lit("kept for manager review"))
        .otherwise(
            pl.format(
                "kept for manager review: nobody else in {} could take it",
                pl.coalesce("territory_name", "territory_id"),
            )
        )
    )
    detail = pl.format(
        "not touched within {} min by {}; {}", "first_touch_minutes", lapsed, outcome
    )
    frame = (
        breaches.join(managers, on="previous_owner_id", how="left")
        .join(
            names.rename({"rep_id": "previous_owner_id", "rep_name": "previous_owner_name"}),
            on="previous_owner_id",
            how="left",
        )
        .join(
            names.rename({"rep_id": "owner_id", "rep_name": "owner_name"}),
            on="owner_id",
            how="left",
        )
        .select(
            type=pl.lit("sla_breached"),
            severity=pl.lit(severity("sla_breached")),
            recipient_id=pl.coalesce("manager_id", pl.lit(fallback_recipient)),
            record_type=pl.lit("lead"),
            record_id="record_id",
            rep_id="previous_owner_id",
            message=pl.format("Lead {} was {}.", "record_id", detail),
            detail=detail,
            clock_started_at="clock_started_at",
        )
    )
    return _finish(
        frame,
        run_id,
        [
            pl.col("record_id"),
            pl.col("rep_id"),
            pl.col("clock_started_at").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        ],
    )


def routing_conflicts(conflicts: pl.LazyFrame, run_id: str, recipient: str) -> pl.LazyFrame:
    """Every conflict, as an informational alert (the conflicts table holds the detail)."""
    frame = conflicts.select(
        type=pl.lit("routing_conflict"),
        severity=pl.lit(severity("routing_conflict")),
        recipient_id=pl.lit(recipient),
        record_type="record_type",
        record_id="record_id",
        rep_id="owner_id",
        message=pl.format(
            "{} on {} {}: {}", "conflict_type", "record_type", "record_id", "rationale"
        ),
        detail=pl.format("{}: {}", "conflict_type", "rationale"),
        conflict_type="conflict_type",
        resolution="resolution",
    )
    return _finish(
        frame,
        run_id,
        [pl.col("record_id"), pl.col("conflict_type"), pl.col("resolution"), pl.col("rep_id")],
    )


def rule_gaps(decisions: pl.LazyFrame, run_id: str, recipient: str) -> pl.LazyFrame:
    """A record no territory matched fell to the fallback queue: the plan has a hole."""
    frame = decisions.filter(pl.col("rule") == "fallback_queue").select(
        type=pl.lit("rule_gap"),
        severity=pl.lit(severity("rule_gap")),
        recipient_id=pl.lit(recipient),
        record_type="record_type",
        record_id="record_id",
        rep_id=pl.lit(None, dtype=pl.String),
        message=pl.format(
            "No rule matched {} {}; it waits in {}.", "record_type", "record_id", "queue"
        ),
        detail=pl.format("no rule matched; waits in {}", "queue"),
    )
    return _finish(frame, run_id, [pl.col("record_id")])


def skill_gap_alerts(
    gaps: pl.LazyFrame, run_id: str, recipient: str, as_of: datetime
) -> pl.LazyFrame:
    """Leads routed to a territory require a skill no member of it has: the plan has a
    hole (the leads wait in the territory's overflow queue). Once a day per territory and
    skill; ``gaps`` is the engine's SKILL_GAPS frame."""
    today = as_of.date()
    frame = gaps.select(
        type=pl.lit("rule_gap"),
        severity=pl.lit(severity("rule_gap")),
        recipient_id=pl.lit(recipient),
        record_type=pl.lit("lead"),
        record_id=pl.col("lead_ids").list.first(),
        rep_id=pl.lit(None, dtype=pl.String),
        message=pl.format(
            "No member of territory {} has skill {}, which {} lead(s) require ({}); they "
            "wait in {}.",
            pl.coalesce("territory_name", "territory_id"),
            "skill",
            "leads",
            pl.col("lead_ids").list.join(", "),
            "queue",
        ),
        detail=pl.format(
            "no member of the territory has skill {}; {} lead(s) wait in {}",
            "skill",
            "leads",
            "queue",
        ),
        territory_id="territory_id",
        skill="skill",
    )
    return _finish(
        frame,
        run_id,
        [pl.lit("skills"), pl.col("territory_id"), pl.col("skill"), pl.lit(today.isoformat())],
    )


def unowned_accounts(
    gaps: pl.LazyFrame,
    decisions: pl.LazyFrame,
    reps: pl.LazyFrame,
    config: RoutingConfig,
    run_id: str,
    as_of: datetime,
) -> pl.LazyFrame:
    """Accounts still without a valid owner after this run, and for longer than the limit."""
    limit = as_of - timedelta(hours=config.alerts.unowned_hours)
    placed = decisions.filter(
        (pl.col("record_type") == "account")
        & pl.col("owner_id").is_not_null()
        & (pl.col("rule") != "manager_review")
    ).select(pl.col("record_id").alias("account_id"))
    managers = reps.select(pl.col("rep_id").alias("owner_id"), "manager_id", owner_name="rep_name")
    since = pl.col("gap_since").dt.strftime("%Y-%m-%d %H:%M")
    frame = (
        gaps.filter(~pl.col("reason").is_in(HELD_REASONS) & (pl.col("gap_since") < limit))
        .join(placed, on="account_id", how="anti")
        .join(managers, on="owner_id", how="left")
        .select(
            type=pl.lit("unowned_account"),
            severity=pl.lit(severity("unowned_account")),
            recipient_id=pl.coalesce("manager_id", pl.lit(config.alerts.revops_recipient)),
            record_type=pl.lit("account"),
            record_id="account_id",
            rep_id="owner_id",
            message=pl.format(
                "Account {} has had no valid owner since {} ({}).", "account_id", since, "reason"
            ),
            detail=pl.format(
                "no valid owner since {} ({})",
                since,
                pl.when(pl.col("owner_id").is_null())
                .then("reason")
                .otherwise(pl.format("{}: {}", "reason", pl.coalesce("owner_name", "owner_id"))),
            ),
            gap_since="gap_since",
        )
    )
    return _finish(frame, run_id, [pl.col("record_id"), pl.col("gap_since")])


# Owners who keep their book while taking nothing new: coverage gaps, not ownerless accounts.
HELD_REASONS = ("on_leave", "data_problem")


def rep_data_problems(
    reps: pl.LazyFrame, gaps: pl.LazyFrame, run_id: str, recipient: str
) -> pl.LazyFrame:
    """Reps held because their row is broken or missing (availability data_problem): they
    keep their book and receive nothing new until someone fixes the export. Announced once
    per rep and problem (column and value)."""
    books = (
        gaps.filter(pl.col("reason") == "data_problem")
        .group_by(rep_id="owner_id")
        .agg(book=pl.len())
    )
    keeps = (
        pl.when(pl.col("book") > 0)
        .then(pl.format("{} account(s)", "book"))
        .otherwise(pl.lit("the accounts they own"))
    )
    problem = pl.format(
        "{} (column {}, value {})",
        pl.coalesce("data_problem", pl.lit("data problem")),
        pl.coalesce("data_problem_column", pl.lit("?")),
        pl.coalesce(pl.format("'{}'", "data_problem_value"), pl.lit("empty")),
    )
    frame = (
        reps.filter(pl.col("availability") == "data_problem")
        .join(books, on="rep_id", how="left")
        .with_columns(book=pl.col("book").fill_null(0))
        .select(
            type=pl.lit("rep_data_problem"),
            severity=pl.when(pl.col("book") > 0).then(pl.lit("high")).otherwise(pl.lit("warning")),
            recipient_id=pl.lit(recipient),
            record_type=pl.lit(None, dtype=pl.String),
            record_id=pl.lit(None, dtype=pl.String),
            rep_id="rep_id",
            message=pl.format(
                "{} ({}) keeps {} but gets no new records until the export is fixed: {}.",
                pl.coalesce("rep_name", "rep_id"),
                "rep_id",
                keeps,
                problem,
            ),
            detail=pl.format(
                "keeps {} but gets no new records until the export is fixed: {}", keeps, problem
            ),
            column="data_problem_column",
            value="data_problem_value",
        )
    )
    return _finish(frame, run_id, [pl.col("rep_id"), pl.col("column"), pl.col("value")])


def overloaded_reps(
    workload_history: pl.LazyFrame,
    reps: pl.LazyFrame,
    config: RoutingConfig,
    run_id: str,
    as_of: datetime,
) -> pl.LazyFrame:
    """Reps whose streak at or above high-water (fct_rep_workload.days_over_high_water,
    counted in dbt) reaches ``overload_days`` on the as-of date."""
    days = config.alerts.overload_days
    today = as_of.date()
    over = workload_history.filter(
        (pl.col("as_of_date") == today) & (pl.col("days_over_high_water") >= days)
    ).select("rep_id", latest_index="workload_index")
    frame = over.join(
        reps.select("rep_id", "rep_name", "manager_id"), on="rep_id", how="left"
    ).select(
        type=pl.lit("rep_overloaded"),
        severity=pl.lit(severity("rep_overloaded")),
        recipient_id=pl.coalesce("manager_id", pl.lit(config.alerts.revops_recipient)),
        record_type=pl.lit(None, dtype=pl.String),
        record_id=pl.lit(None, dtype=pl.String),
        rep_id="rep_id",
        message=pl.format(
            "{} has been over capacity for {} days (workload index {}).",
            pl.coalesce("rep_name", "rep_id"),
            pl.lit(days),
            pl.col("latest_index").round(0).cast(pl.Int64),
        ),
        detail=pl.format(
            "over capacity for {} days (workload index {})",
            pl.lit(days),
            pl.col("latest_index").round(0).cast(pl.Int64),
        ),
    )
    return _finish(frame, run_id, [pl.col("rep_id"), pl.lit(today.isoformat())])


def guard_tripped(run_id: str, guard: str, message: str, recipient: str) -> pl.DataFrame:
    frame = pl.LazyFrame(
        {
            "type": ["guard_tripped"],
            "severity": [severity("guard_tripped")],
            "recipient_id": [recipient],
            "record_type": [None],
            "record_id": [None],
            "rep_id": [None],
            "message": [message],
            "detail": [message],
            "guard": [guard],
        },
        schema_overrides={"record_type": pl.String, "record_id": pl.String, "rep_id": pl.String},
    )
    return _finish(frame, run_id, [pl.lit(run_id), pl.col("guard")]).collect()


def delivery_failed(
    pending: pl.DataFrame, *, run_id: str, recipient: str, hours: float, now: datetime
) -> pl.DataFrame:
    """One alert when messages to a sink have waited longer than ``hours`` (wall clock).

    ``pending`` holds the undelivered messages (sink, message_key, last_error, created_at).
    The key names the oldest stale message: an outage is announced once, not every run,
    and a sink that recovers and fails again is announced again.
    """
    stale = pending.filter(pl.col("created_at") < now - timedelta(hours=hours)).sort(
        "created_at", "message_key"
    )
    frame = (
        stale.group_by("sink", maintain_order=True)
        .agg(
            oldest_key=pl.col("message_key").first(),
            oldest_at=pl.col("created_at").first(),
            stale=pl.len(),
            last_error=pl.col("last_error").drop_nulls().last(),
        )
        .lazy()
        .select(
            type=pl.lit("delivery_failed"),
            severity=pl.lit(severity("delivery_failed")),
            recipient_id=pl.lit(recipient),
            record_type=pl.lit(None, dtype=pl.String),
            record_id=pl.lit(None, dtype=pl.String),
            rep_id=pl.lit(None, dtype=pl.String),
            message=pl.format(
                "{} to {} {} undelivered for more than {} h (oldest since {} UTC; last "
                "error: {}). Every run retries them; so does `switchboard publish --retry`.",
                pl.when(pl.col("stale") == 1)
                .then(pl.lit("1 message"))
                .otherwise(pl.format("{} messages", "stale")),
                pl.col("sink").replace_strict(SINK_NAMES, default=pl.col("sink")),
                pl.when(pl.col("stale") == 1)
                .then(pl.lit("has been"))
                .otherwise(pl.lit("have been")),
                pl.lit(f"{hours:g}"),
                pl.col("oldest_at").dt.strftime("%Y-%m-%d %H:%M"),
                pl.col("last_error").fill_null("none recorded"),
            ),
            sink="sink",
            oldest_key="oldest_key",
        )
        .with_columns(detail=pl.col("message"))
    )
    return _finish(frame, run_id, [pl.col("sink"), pl.col("oldest_key")]).collect()


def build_alerts(
    *,
    decisions: pl.DataFrame,
    conflicts: pl.DataFrame,
    reps: pl.LazyFrame,
    gaps: pl.LazyFrame,
    workload_history: pl.LazyFrame,
    config: RoutingConfig,
    run_id: str,
    as_of: datetime,
    skill_gaps: pl.DataFrame | None = None,
    sla_breaches: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """All alerts of one run, most severe first, one row per alert_key.

    ``sla_breaches`` (the engine's SLA_BREACHES) raise sla_breached; their manager reviews
    are no pipeline handoff."""
    revops = config.alerts.revops_recipient
    d, c = decisions.lazy(), conflicts.lazy()
    handoffs = d
    if sla_breaches is not None and sla_breaches.height:
        handoffs = d.join(
            sla_breaches.lazy().select("record_id", record_type=pl.lit("lead")),
            on=["record_type", "record_id"],
            how="anti",
        )
    parts = [
        unowned_accounts(gaps, d, reps, config, run_id, as_of),
        overloaded_reps(workload_history, reps, config, run_id, as_of),
        pipeline_handoffs(handoffs, reps, run_id, revops),
        *(
            [sla_breached(sla_breaches.lazy(), reps, run_id, revops)]
            if sla_breaches is not None
            else []
        ),
        routing_conflicts(c, run_id, revops),
        rule_gaps(d, run_id, revops),
        *(
            [skill_gap_alerts(skill_gaps.lazy(), run_id, revops, as_of)]
            if skill_gaps is not None
            else []
        ),
        rep_data_problems(reps, gaps, run_id, revops),
    ]
    severity_rank = pl.col("severity").replace_strict(
        {s: -i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.Int8
    )
    return (
        pl.concat(parts)
        .unique("alert_key", keep="first", maintain_order=True)
        .sort(severity_rank, "type", "record_id", "rep_id", nulls_last=True, maintain_order=True)
        .collect()
    )
