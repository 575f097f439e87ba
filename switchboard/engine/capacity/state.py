"""The reps and territory members as placement starts from them: availability, start
index (with what this run gave already), deltas, hysteresis and who may take leads now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine import rotation, schedule
from switchboard.engine.inputs import EngineInputs

# How an unavailable member is described in a rationale ("Lee Leave skipped (on leave)").
AVAILABILITY_WORDING = {
    "on_leave": "on leave",
    "terminated": "left",
    "deactivated": "deactivated",
    "role_change": "changed role",
    "not_in_hr": "not in HR",
    "data_problem": "held: their row in the export needs fixing",
}


def rep_table(
    inputs: EngineInputs,
    config: RoutingConfig,
    leaver_rep_ids: Sequence[str],
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """One row per rep: availability (leavers forced out), start index, deltas, state,
    skills (lower-cased) and working hours at ``as_of`` (switchboard.engine.schedule).

    A rep named as a leaver is treated as terminated whatever HR says, so a departure run
    can act before the HR export catches up. A rep without a workload row starts at index
    0 with the configured default capacity; a rep without state was not overflowing and
    has round-robin position 0. Without ``as_of`` every rep counts as working.
    """
    w = config.workload
    leaver = pl.col("rep_id").is_in(list(leaver_rep_ids))
    workload = inputs.workload.sort("rep_id", "workload_index", nulls_last=True).unique(
        "rep_id", keep="first", maintain_order=True
    )
    state = inputs.rep_state.sort("rep_id", "rr_position", nulls_last=True).unique(
        "rep_id", keep="first", maintain_order=True
    )
    return (
        inputs.reps.sort("rep_id")
        .unique("rep_id", keep="first", maintain_order=True)
        .join(workload, on="rep_id", how="left")
        .join(state, on="rep_id", how="left")
        .with_columns(
            availability=pl.when(leaver)
            .then(pl.lit("terminated"))
            .otherwise(pl.col("availability")),
            is_available=pl.col("is_available").fill_null(False) & ~leaver,
            is_valid_owner=pl.col("is_valid_owner").fill_null(False) & ~leaver,
            start_index=pl.col("workload_index").fill_null(0.0),
            capacity=pl.when(pl.col("capacity") > 0)
            .then(pl.col("capacity"))
            .otherwise(pl.lit(float(w.default_capacity))),
            was_overflowing=pl.col("is_overflowing").fill_null(False),
            rr_position=pl.col("rr_position").fill_null(0),
        )
        .with_columns(**delta_columns(config))
        .pipe(_add_recent_load, inputs.recent_assignments)
        .pipe(_add_schedule, as_of)
        .with_columns(
            skills=pl.col("skills")
            .list.eval(pl.element().str.strip_chars().str.to_lowercase())
            .fill_null(pl.lit([], pl.List(pl.String())))
        )
        .select(
            "rep_id",
            "rep_name",
            "availability",
            "is_available",
            "is_valid_owner",
            "start_index",
            "capacity",
            "was_overflowing",
            "rr_position",
            "delta_account",
            "delta_lead",
            "skills",
            "working_now",
            "next_start",
            "next_start_text",
        )
        .collect(engine="in-memory")
    )


def delta_columns(config: RoutingConfig) -> dict[str, pl.Expr]:
    """``delta_account`` and ``delta_lead``: what one record adds to the workload index of
    a rep with the frame's ``capacity`` (the what-if's workload estimate uses the same)."""
    weights = config.workload.weights
    return {
        "delta_account": 100.0
        * (weights.active_accounts + weights.inbound_last_7d)
        / pl.col("capacity"),
        "delta_lead": 100.0 * weights.inbound_last_7d / pl.col("capacity"),
    }


def _add_schedule(reps: pl.LazyFrame, as_of: datetime | None) -> pl.LazyFrame:
    """Working now / next shift start per rep (everyone working without an as-of)."""
    if as_of is None:
        return reps.with_columns(
            working_now=pl.lit(True),
            next_start=pl.lit(None, pl.Datetime("us")),
            next_start_text=pl.lit(None, pl.String()),
        )
    hours = schedule.rep_schedule(reps.select("rep_id", "timezone", "working_hours"), as_of)
    return reps.join(hours.lazy(), on="rep_id", how="left", maintain_order="left")


def _add_recent_load(reps: pl.LazyFrame, recent: pl.LazyFrame) -> pl.LazyFrame:
    """Raise each rep's start index by what it received after its workload row was built."""
    gained = load_by_rep(recent, reps).select("rep_id", recent_load="load")
    return (
        reps.join(gained, on="rep_id", how="left", maintain_order="left")
        .with_columns(start_index=pl.col("start_index") + pl.col("recent_load").fill_null(0.0))
        .drop("recent_load")
    )


def delta_for(record_type: pl.Expr) -> pl.Expr:
    """The delta column matching a record type (reps' columns must be joined in)."""
    return (
        pl.when(record_type == "lead").then(pl.col("delta_lead")).otherwise(pl.col("delta_account"))
    )


def load_by_rep(assignments: pl.LazyFrame, reps: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Index points (``load``) and records (``received``) each rep gains from assignments.

    Counted per record type and multiplied by the delta, so the result does not depend
    on the order in which floating-point deltas would otherwise be summed.
    """
    return load_from_counts(assignment_counts(assignments), reps)


def assignment_counts(assignments: pl.LazyFrame) -> pl.LazyFrame:
    """Per rep, the accounts and leads among ``assignments`` (record_type, rep_id). Counts
    of disjoint sets of records add up (the partitioned run sums them per rep)."""
    is_lead = pl.col("record_type") == "lead"
    return assignments.group_by("rep_id").agg(
        accounts=(~is_lead).sum().cast(pl.Int64), leads=is_lead.sum().cast(pl.Int64)
    )


def load_from_counts(counts: pl.LazyFrame, reps: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """`load_by_rep` from per-rep counts (rep_id, accounts, leads)."""
    return counts.join(
        reps.lazy().select("rep_id", "delta_account", "delta_lead"), on="rep_id"
    ).select(
        "rep_id",
        load=pl.col("accounts") * pl.col("delta_account") + pl.col("leads") * pl.col("delta_lead"),
        received=pl.col("accounts") + pl.col("leads"),
    )


def member_state(
    members: pl.LazyFrame,
    reps: pl.DataFrame,
    pre_load: pl.LazyFrame,
    config: RoutingConfig,
    rotations: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Territory members at the start of placement: index, weight, eligibility, why skipped.

    ``pre_load`` is what rules evaluated before the territory rule (open opportunity,
    named account, account owner) already gave each rep in this run: it counts before
    the territory hands out anything. ``eligible`` is for accounts; ``eligible_lead``
    narrows it for inbound leads to the members working now, or, when none of the
    eligible members is, to those whose next shift starts first (``off_hours``).
    ``rotations`` (switchboard.engine.rotation) places the members of round-robin
    territories in their rotation.
    """
    hw, release = config.workload.high_water, config.workload.release
    index = pl.col("index")
    reason = (
        pl.when(pl.col("availability").is_null())
        .then(pl.lit("not a known rep"))
        .when(~pl.col("is_available"))
        .then(
            pl.col("availability")
            .replace(AVAILABILITY_WORDING)
            .fill_null("unavailable")
            .replace({"available": "unavailable"})
        )
        .when(pl.col("weight") <= 0)
        .then(pl.lit("weight 0"))
        .when(pl.col("was_overflowing") & (pl.col("start_index") >= release))
        .then(
            pl.format(
                "overflowing, index {} not yet below {}",
                pl.col("start_index").round(0).cast(pl.Int64),
                pl.lit(release).round(0).cast(pl.Int64),
            )
        )
        .when(index >= hw)
        .then(pl.format("at capacity, index {}", index.round(0).cast(pl.Int64)))
    )
    rotation_rows = (
        rotations if rotations is not None else pl.DataFrame(schema=rotation.ROTATION_SCHEMA)
    ).drop("cycle_key")
    state = (
        members.with_columns(weight=pl.col("weight").fill_null(1.0))
        .sort("territory_id", "rep_id", "weight")
        .unique(["territory_id", "rep_id"], keep="first", maintain_order=True)
        .join(reps.lazy(), on="rep_id", how="left")
        .join(pre_load.select("rep_id", "load"), on="rep_id", how="left")
        .with_columns(
            start_index=pl.col("start_index").fill_null(0.0),
            index=pl.col("start_index").fill_null(0.0) + pl.col("load").fill_null(0.0),
            is_available=pl.col("is_available").fill_null(False),
            was_overflowing=pl.col("was_overflowing").fill_null(False),
            rr_position=pl.col("rr_position").fill_null(0),
            rep_name=pl.coalesce("rep_name", "rep_id"),
            working_now=pl.col("working_now").fill_null(True),
            skills=pl.col("skills").fill_null(pl.lit([], pl.List(pl.String()))),
            method=pl.col("territory_method").fill_null(rotation.WORKLOAD),
            home_territory_id=pl.col("territory_id"),
        )
        .with_columns(skip_reason=reason)
        .with_columns(eligible=pl.col("skip_reason").is_null())
        .join(rotation_rows.lazy(), on=["territory_id", "rep_id"], how="left")
        .select(
            "territory_id",
            "home_territory_id",
            "rep_id",
            "rep_name",
            "weight",
            "index",
            "rr_position",
            "delta_account",
            "delta_lead",
            "eligible",
            "skip_reason",
            "skills",
            "working_now",
            "next_start",
            "next_start_text",
            "method",
            "rr_offsets",
            "rr_turns",
            "rr_length",
            "rr_start",
        )
    )
    return with_lead_eligibility(state, pl.col("eligible")).collect(engine="in-memory")


def with_lead_eligibility(members: pl.LazyFrame, base: pl.Expr) -> pl.LazyFrame:
    """``eligible_lead`` and ``off_hours`` per (territory_id, member), from ``base``.

    Of the members ``base`` admits, those working now take the territory's leads; when
    none is working, those whose next shift starts first do (``off_hours``), ties by the
    usual pick. A member with no next shift within a week is never picked off hours.
    """
    able = base.fill_null(False)
    working = able & pl.col("working_now")
    any_working = working.any().over("territory_id")
    first_start = pl.col("next_start").filter(able).min().over("territory_id")
    off_hours = able & ~any_working & ~pl.col("working_now") & (pl.col("next_start") == first_start)
    return members.with_columns(
        eligible_lead=working | off_hours.fill_null(False),
        off_hours=off_hours.fill_null(False),
        lead_able=able,
    )
