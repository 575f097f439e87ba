"""`route`: marts in, decisions + conflicts + rep state out. Pure Polars, no I/O.

The steps, each a vectorised pass over all records being decided:

1. who needs an owner (eligibility.py), the leads whose first-touch SLA ran out (sla.py),
   and the rep table with start workloads;
2. what each non-territory rule offers every record (hierarchy.py: open opportunity,
   named account/parent, account owner) and which records the redistribution rules take;
   which leads follow an account this run decides (followers.py: their account's owner,
   where the territory placement does not decide it);
3. the load those earlier rules already give reps, then the members' starting state,
   each territory's start-of-run pick and every record's winning territory
   (territory.py);
4. capacity-aware (or round-robin) placement of the records that reach the territory
   rule (capacity/, loops over shared-rep layers only), inbound leads only with members
   working now who have their skills (a lead past its SLA only with members who have not
   held it); the leads following a placed account count on its new owner;
5. the first rule with a candidate wins (routing.yml order), accounts before the leads
   that follow them; conflicts are derived, rationale and candidates are written, rep
   state is advanced.

Records are numbered once (``seq``: arrival order) and every later step keys on that
integer. Each ``collect`` names its Polars engine: the in-memory engine is the faster one
for these sort- and group-by-heavy shapes; the streaming engine wins the two steps that
mostly project and aggregate (winners, the final decisions projection). Measured with
bench/engine_bench.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine import (
    conflicts,
    eligibility,
    followers,
    hierarchy,
    rationale,
    rotation,
    sla,
    territory,
)
from switchboard.engine.capacity import describe, groups, placement, state
from switchboard.engine.eligibility import REPAIRS_ONLY, Selection
from switchboard.engine.inputs import EngineInputs
from switchboard.engine.schema import DECISIONS, REP_STATE, ROUND_ROBIN, SKILL_GAPS, SLA_BREACHES


@dataclass(frozen=True)
class EngineResult:
    """The engine's output, each frame exactly in its schema.py layout.

    ``round_robin`` is where each round-robin territory's rotation stands after the run
    (routing.round_robin); ``skill_gaps`` lists, per territory, skills that leads routed
    to it this run require and no member has (a rule_gap alert each); ``sla_breaches`` the
    leads whose first-touch SLA ran out, re-routed or kept for manager review (an
    sla_breached alert each).
    """

    decisions: pl.DataFrame
    conflicts: pl.DataFrame
    rep_state: pl.DataFrame
    round_robin: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ROUND_ROBIN))
    skill_gaps: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SKILL_GAPS))
    sla_breaches: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SLA_BREACHES))


def _naive_utc(moment: datetime) -> datetime:
    """Warehouse timestamps are naive UTC; an aware as-of is converted to match."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _rep_state(
    reps: pl.DataFrame, gains: pl.LazyFrame, config: RoutingConfig, as_of: datetime
) -> pl.DataFrame:
    """State carried to the next run: hysteresis flag and round-robin position.

    ``gains`` counts what this run gave each rep (`gains`). The final index is the start
    index plus that load. A rep is overflowing when its final index is at or above high
    water; one that was overflowing stays so while its start-of-run index is at or above
    release (it received nothing from a territory in this run, so that is also its state
    at the end).

    ``rr_position`` is each rep's place in the round-robin queue (1 = first served on a
    tie): reps that received records this run move behind those that did not, keeping
    their relative order, so a tie goes to a different rep next run.
    """
    hw, release = config.workload.high_water, config.workload.release
    gained = state.load_from_counts(gains, reps)
    final = pl.col("start_index") + pl.col("load").fill_null(0.0)
    return (
        reps.lazy()
        .join(gained, on="rep_id", how="left")
        .with_columns(
            is_overflowing=(final >= hw)
            | (pl.col("was_overflowing") & (pl.col("start_index") >= release)),
            received=pl.col("received").fill_null(0) > 0,
        )
        .sort("received", "rr_position", "rep_id")
        .with_row_index("new_rr_position", offset=1)
        .sort("rep_id")
        .select(
            "rep_id",
            "is_overflowing",
            rr_position=pl.col("new_rr_position").cast(pl.Int64),
            updated_at=pl.lit(as_of),
        )
        .cast(REP_STATE)  # type: ignore[arg-type]
        .collect(engine="in-memory")
    )


def gains(decisions: pl.DataFrame) -> pl.LazyFrame:
    """Per rep, the accounts and leads the decisions give it that count towards its load
    (a manager review keeps the owner and gives nothing): rep_id, accounts, leads."""
    return state.assignment_counts(
        decisions.lazy()
        .filter(pl.col("owner_id").is_not_null() & (pl.col("rule") != "manager_review"))
        .select("record_type", rep_id="owner_id")
    )


def rep_state_after(
    inputs: EngineInputs,
    gains: pl.LazyFrame,
    config: RoutingConfig,
    *,
    as_of: datetime,
    leaver_rep_ids: Sequence[str] = (),
) -> pl.DataFrame:
    """routing.rep_state after a run that gave the reps ``gains`` (rep_id, accounts, leads;
    `gains` of its decisions). The renumbering of ``rr_position`` ranks every rep, so a
    run decided in independent parts (switchboard.engine.partition) computes it here, once,
    from the parts' summed gains."""
    decided_at = _naive_utc(as_of)
    reps = state.rep_table(inputs.normalised(), config, sorted(set(leaver_rep_ids)), decided_at)
    return _rep_state(reps, gains, config, decided_at)


def route(
    inputs: EngineInputs,
    config: RoutingConfig,
    *,
    run_id: str,
    as_of: datetime,
    selection: Selection = REPAIRS_ONLY,
    leaver_rep_ids: Sequence[str] = (),
) -> EngineResult:
    """Decide every record that needs an owner; see docs/ARCHITECTURE.md "Rule hierarchy".

    ``selection`` (the run's plan, switchboard/plans.py): by default the problems of
    ``routing.yml`` ``hourly_repairs`` are repaired; ``leavers_only`` decides only the
    books of ``leaver_rep_ids`` (treated as terminated whatever HR says);
    ``also_repairs=("outside_territory",)`` also repairs accounts left outside their
    owner's territories (see switchboard.engine.eligibility). Output row order is
    deterministic: decisions by (created_at, record_type, record_id), conflicts likewise
    then by type, rep state by rep_id.
    """
    if selection.leavers_only and not leaver_rep_ids:
        raise ValueError("a selection of the leavers' books needs leaver_rep_ids")
    leavers = sorted(set(leaver_rep_ids))
    decided_at = _naive_utc(as_of)
    data = inputs.normalised()

    reps = state.rep_table(data, config, leavers, decided_at)
    names = reps.lazy().select("rep_id", "rep_name")
    breaches = (
        sla.breaches(data, config, decided_at) if selection.checks_sla(config) else sla.empty()
    )
    records = eligibility.records_needing_owner(data, reps, config, selection, leavers, breaches)
    territories = territory.territory_table(data.territory_matches, config)

    facts = _rule_facts(data, records, reps, config)
    pre_load = state.load_by_rep(
        facts.lazy()
        .filter(pl.col("earlier_owner_id").is_not_null())
        .select("record_type", rep_id="earlier_owner_id"),
        reps,
    )
    rotations = rotation.rotations(
        data.territory_members.select(
            "territory_id",
            "rep_id",
            pl.col("weight").fill_null(1.0),
            method=pl.col("territory_method").fill_null(rotation.WORKLOAD),
        ).collect(engine="in-memory"),
        data.round_robin,
    )
    members = state.member_state(data.territory_members, reps, pre_load, config, rotations)
    picks = describe.start_picks(members)
    matched = territory.record_matches(
        sla.own_territory(data.territory_matches, records),
        records,
        territory.opportunity_territories(data.opportunities, data.territory_members),
        territories,
        picks,
    )
    winners = territory.winners(matched, territories)
    pending = (
        facts.lazy()
        .select(
            "seq",
            "record_type",
            "redistributed",
            "follow_pending",
            "earlier_owner_id",
            "required_skills",
            "sla",
            "sla_exhausted",
            "sla_held_by",
        )
        .join(winners.lazy().select("seq", "win_territory_id"), on="seq", how="left")
        .filter(hierarchy.reaches_territory(config))
        .select(
            "seq",
            "record_type",
            "required_skills",
            territory_id="win_territory_id",
            excluded=pl.when("sla").then(pl.col("sla_held_by")),
        )
        .collect(engine="in-memory")
    )
    grouped, group_members, group_order = groups.lead_groups(
        pending, members, territories.select("territory_id", "territory_rank")
    )
    placed = placement.place(
        grouped.drop("required_skills"),
        group_members,
        group_order,
        config,
        followers=followers.pending_followers(facts),
    )
    round_robin = rotation.next_state(rotations, placement.positions_used(placed), decided_at)
    placed = _with_lead_facts(placed, grouped, group_members)
    named_accounts = _named_account_names(data.accounts, data.named_accounts)
    decided = _decide(
        facts,
        winners=winners,
        placed=placed,
        picks=picks,
        names=names,
        named_accounts=named_accounts.lazy(),
        config=config,
    )

    # A lead re-routed for its SLA is no ambiguity: its rule ignores the others on purpose.
    contestable = decided.lazy() if breaches.is_empty() else decided.lazy().filter(~pl.col("sla"))
    descriptions = conflicts.territory_descriptions(matched, contestable, names, territories)
    conflict_rows = conflicts.build_conflicts(contestable, descriptions, names, run_id)
    explained = rationale.rationale_by_seq(
        decided,
        config,
        names=names,
        match_text=descriptions.lazy().select("seq", "match_text"),
        skipped=describe.skipped_members(members)
        .lazy()
        .rename({"territory_id": "win_territory_id"}),
        named_accounts=named_accounts.lazy(),
    )
    decisions = _decisions(
        decided, explained, conflict_rows, config, run_id=run_id, decided_at=decided_at
    )
    return EngineResult(
        decisions=decisions,
        conflicts=conflict_rows.drop("seq"),
        rep_state=_rep_state(reps, gains(decisions), config, decided_at),
        round_robin=round_robin,
        skill_gaps=_skill_gaps(pending, facts, members, territories),
        sla_breaches=sla.outcomes(decided, config),
    )


def _with_lead_facts(
    placed: pl.DataFrame, grouped: pl.DataFrame, members: pl.DataFrame
) -> pl.DataFrame:
    """The placement with, per lead, what its rationale says beyond the pick: the skills
    it requires as text (``skills_text``), how many members of the territory have them
    (``skilled``) and the members who could have taken it but are not working now
    (``off_duty_text``)."""
    off_duty = describe.off_duty_members(members)
    if off_duty.is_empty() and not grouped["required_skills"].list.len().gt(0).any():
        return placed.with_columns(
            off_duty_text=pl.lit(None, pl.String()),
            skills_text=pl.lit(None, pl.String()),
            skilled=pl.lit(None, pl.Int64()),
        )
    skilled = (
        members.filter(pl.col("skilled").is_not_null())
        .select("territory_id", "skilled")
        .unique("territory_id")
    )
    facts = (
        grouped.filter(pl.col("record_type") == "lead")
        .join(skilled, on="territory_id", how="left")
        .join(off_duty, on="territory_id", how="left")
        .select(
            "seq",
            "off_duty_text",
            skills_text=pl.when(pl.col("required_skills").list.len() > 0).then(
                pl.col("required_skills").list.join(", ")
            ),
            skilled=pl.when(pl.col("required_skills").list.len() > 0).then(
                pl.col("skilled").fill_null(0).cast(pl.Int64)
            ),
        )
    )
    return facts.join(placed, on="seq", how="full", coalesce=True)


def _skill_gaps(
    pending: pl.DataFrame, facts: pl.DataFrame, members: pl.DataFrame, territories: pl.DataFrame
) -> pl.DataFrame:
    """Per (territory, skill): leads placed through the territory this run that require
    the skill, when no member of the territory (available or not) has it."""
    held = members.select("territory_id", skill="skills").explode("skill").drop_nulls()
    return (
        pending.lazy()
        .filter(pl.col("required_skills").list.len() > 0)
        .join(facts.lazy().select("seq", "record_id"), on="seq", how="left")
        .select("territory_id", "record_id", skill="required_skills")
        .explode("skill")
        .join(held.lazy(), on=["territory_id", "skill"], how="anti")
        .group_by("territory_id", "skill")
        .agg(leads=pl.len().cast(pl.Int64), lead_ids=pl.col("record_id").sort().head(3))
        .join(
            territories.lazy().select("territory_id", "territory_name", "queue"),
            on="territory_id",
            how="left",
        )
        .sort("territory_id", "skill")
        .select(list(SKILL_GAPS))
        .collect(engine="in-memory")
        .cast(SKILL_GAPS)  # type: ignore[arg-type]
    )


def _named_account_names(accounts: pl.LazyFrame, named: pl.LazyFrame) -> pl.DataFrame:
    """Names of the accounts on the named list (rationale: "Parent account Acme ...")."""
    return (
        accounts.join(named.select("account_id"), on="account_id", how="semi")
        .select("account_id", "account_name")
        .unique("account_id")
        .collect(engine="in-memory")
    )


def _rule_facts(
    data: EngineInputs, records: pl.DataFrame, reps: pl.DataFrame, config: RoutingConfig
) -> pl.DataFrame:
    """Records with what every rule but the territory offers them (in ``seq`` order).

    ``earlier_owner_id`` is the owner a rule evaluated *before* the territory rule gives
    the record: those rules need no capacity, and what they give counts towards the load
    the territory then sees. Leads that follow an account decided in this run are marked
    here (followers.with_followers).
    """
    owner_flags, owner_candidate = hierarchy.account_owner_candidate(reps)
    # Collected before the followers are marked: that step reads the frame twice (its
    # accounts, and every record), and a plan read twice would be computed twice.
    facts = (
        records.lazy()
        .join(
            hierarchy.opportunity_facts(data.opportunities, reps, records.lazy()),
            on="account_key",
            how="left",
            maintain_order="left",
        )
        .pipe(hierarchy.named_facts, data.named_accounts, reps)
        .join(owner_flags, on="account_owner_id", how="left", maintain_order="left")
        .with_columns(account_owner_candidate=owner_candidate)
        .with_columns(redistributed=hierarchy.redistributed(config))
        .drop("_account_owner_available")
        .collect(engine="in-memory")
    )
    return facts.lazy().pipe(followers.with_followers, config).collect(engine="in-memory")


def _decide(
    facts: pl.DataFrame,
    *,
    winners: pl.DataFrame,
    placed: pl.DataFrame,
    picks: pl.DataFrame,
    names: pl.LazyFrame,
    named_accounts: pl.LazyFrame,
    config: RoutingConfig,
) -> pl.DataFrame:
    """The first rule with a candidate wins (routing.yml order); rows stay in seq order.

    A lead that follows an account then takes that account's decision
    (followers.redecide_followers).

    ``pick_owner_id`` is the territory's owner pick for the record: the placement if the
    record reached the territory rule, else who the winning territory would pick first.
    """
    outcomes = (
        hierarchy.sla_outcomes()
        + hierarchy.redistribution_outcomes(config)
        + [hierarchy.rule_outcome(r, config) for r in hierarchy.effective_rules(config)]
    )
    # Collected before the followers read their accounts' decisions: a plan read twice
    # would be computed twice.
    first = (
        facts.lazy()
        .join(winners.lazy(), on="seq", how="left", maintain_order="left")
        .join(placed.lazy(), on="seq", how="left", maintain_order="left")
        .join(
            picks.lazy().rename(
                {"territory_id": "win_territory_id", "pick_owner_id": "start_pick_owner_id"}
            ),
            on=["win_territory_id", "record_type"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            contested=pl.col("contested").fill_null(False), **hierarchy.first_hit(outcomes)
        )
        .collect(engine="in-memory")
    )
    decided = (
        first.lazy()
        .pipe(followers.redecide_followers, outcomes)
        .with_columns(
            pick_owner_id=pl.when(hierarchy.reaches_territory(config))
            .then(pl.col("alloc_owner_id"))
            .otherwise(pl.col("start_pick_owner_id"))
        )
        .pipe(conflicts.with_names, names, {"owner_id": "owner_name"})
        .join(
            named_accounts.rename(
                {
                    "account_id": "named_parent_account_id",
                    "account_name": "named_parent_account_name",
                }
            ),
            on="named_parent_account_id",
            how="left",
            maintain_order="left",
        )
        .collect(engine="in-memory")
    )
    if not decided["seq"].is_sorted():  # joins above keep the left order; cheap guard
        decided = decided.sort("seq")
    return decided


def _decisions(
    decided: pl.DataFrame,
    explained: pl.DataFrame,
    conflict_rows: pl.DataFrame,
    config: RoutingConfig,
    *,
    run_id: str,
    decided_at: datetime,
) -> pl.DataFrame:
    """The decisions table (schema.DECISIONS) in seq order.

    ``decided`` and ``explained`` (the rationale) both hold every record once in seq
    order, so the rationale is attached by position rather than by a join.
    """
    if not explained["seq"].equals(decided["seq"]):
        raise RuntimeError("rationale rows do not line up with the decisions")
    contested = conflict_rows["seq"].unique()
    return (
        decided.lazy()
        .with_columns(rationale=explained["rationale"])
        .select(
            run_id=pl.lit(run_id),
            decided_at=pl.lit(decided_at),
            record_type="record_type",
            record_id="record_id",
            previous_owner_id="previous_owner_id",
            owner_id="owner_id",
            queue="queue",
            rule="rule",
            territory_id="territory_id",
            conflict=pl.col("seq").is_in(contested),
            candidates=rationale.candidate_list(config),
            rationale="rationale",
            rules_version=pl.lit(config.rules_version),
            # A record the export already lists when the pass reads it may carry a created_at
            # a little after the pass's as-of: it waited no time.
            latency_seconds=(
                (pl.lit(decided_at) - pl.col("created_at")).dt.total_microseconds() / 1_000_000
            ).clip(lower_bound=0.0),
        )
        .cast(DECISIONS)  # type: ignore[arg-type]
        .collect(engine="streaming")
    )
