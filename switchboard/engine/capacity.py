"""Capacity-aware placement: who in a territory takes each record, without a loop over records.

The rule (docs/ARCHITECTURE.md, "Capacity pick"): among the territory's eligible
members, the next record
goes to the member with the lowest workload index, weighted by member weight, ties by the
persisted round-robin position, then rep_id; every placement counts before the next
record is placed.

Definitions used throughout the engine:

* A member's *delta* is what one record adds to its workload index:
  ``100 * (w_active_accounts + w_inbound_last_7d) / capacity`` for an account and
  ``100 * w_inbound_last_7d / capacity`` for a lead (a lead adds inbound, not a book).
* A member is *eligible* when the rep is available (active, HR active, carrying role, not
  the leaver), its weight is positive and it is not held back by hysteresis: a rep that
  was overflowing after the previous run stays out while its workload index (the mart's,
  at the start of the run) is at or above ``release``; any rep at or above
  ``high_water`` is out. The index a territory sees includes what rules evaluated before
  it (open opportunity, named account, account owner) gave the rep in this run.
* Member r with index I, delta d and weight w offers *slots* k = 1, 2, ... while
  ``I + (k - 1) * d < high_water`` (it may take a record while it is below high water).
  Slot k is ordered by ``I + k * d / w``: the index the rep would reach by taking it,
  with the record's increment divided by the weight. Capacity is already inside the
  index, so the weight only sets the *share of new records* (data_contracts:
  territory_members.weight): of two equally loaded members a weight-2 member takes two
  records for each one of a weight-1 teammate, while a lighter member still comes first.
  Using the index *after* the record means a small-capacity rep (big jumps) is not handed
  a record that pushes it far past a teammate. Ties: rr_position, rep_id.
* The records of a territory, in (created_at, record_id) order, are zipped with its
  smallest slots; the rest go to the overflow queue. Because a rep's slot keys increase
  with k, taking the N smallest slots is exactly the one-at-a-time greedy.

Accounts and leads have different deltas, so one territory is placed in two passes:
its accounts first, then its leads (the greedy applied to that sequence). A lead that
follows a new account (hierarchy.with_followers) is not placed: it takes the account's
owner, and its delta is added to that owner after the accounts pass, before any later
pass. An account's followers may so take its owner past high water; the owner then
receives nothing more from a territory in this run.

Inbound leads see fewer members than accounts: ``eligible_lead`` keeps the eligible
members working at the as-of, or, when none is, those whose next shift starts first
(switchboard.engine.schedule); leads that require skills are placed as lead groups of
their own, with the members who have the skills (``lead_groups``). Members of a
round-robin territory offer their turns in the territory's rotation instead
(switchboard.engine.rotation): slot k is keyed by the position of the member's k-th turn,
the capacity limit staying the same.

Reps in several territories. Two territories placed from the same starting index would
hand out the same headroom twice. Territories are therefore processed conceptually one
after another in (priority, territory_id) order, a higher-priority territory drawing
first on a shared rep. That sequence is executed in *layers*: a territory's layer is one
more than the highest layer of an earlier territory it shares an eligible rep with, so
the territories of one layer share nobody and are placed together in one vectorised
pass; the consumed load is carried to the next layer. Orgs without shared reps run in a
single layer; a rep shared by every territory makes as many layers as territories (each
small), which is the price of never over-committing a rep.
"""

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

PLACED_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.UInt32(),
    "alloc_owner_id": pl.String(),
    "alloc_index": pl.Float64(),
    # The member was outside working hours (no member working; its shift starts first).
    "alloc_off_hours": pl.Boolean(),
    "alloc_next_start_text": pl.String(),
    # Round-robin territories: the record's position in the rotation (counted from where
    # the run started), and the territory whose rotation it is.
    "alloc_rr_position": pl.Float64(),
    "alloc_home_territory_id": pl.String(),
}

# Joins a territory id and a lead's required skills into the id of the lead group placed
# with the members who have those skills.
GROUP_SEPARATOR = "\x1f"


def rep_table(
    inputs: EngineInputs, config: RoutingConfig, leaver_rep_ids: Sequence[str],
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
            skills=pl.col("skills").list.eval(
                pl.element().str.strip_chars().str.to_lowercase()
            ).fill_null(pl.lit([], pl.List(pl.String())))
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
        "delta_account": 100.0 * (weights.active_accounts + weights.inbound_last_7d)
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


def load_by_rep(
    assignments: pl.LazyFrame, reps: pl.DataFrame | pl.LazyFrame
) -> pl.LazyFrame:
    """Index points (``load``) and records (``received``) each rep gains from assignments.

    Counted per record type and multiplied by the delta, so the result does not depend
    on the order in which floating-point deltas would otherwise be summed.
    """
    is_lead = pl.col("record_type") == "lead"
    return (
        assignments.group_by("rep_id")
        .agg(accounts=(~is_lead).sum(), leads=is_lead.sum())
        .join(reps.lazy().select("rep_id", "delta_account", "delta_lead"), on="rep_id")
        .select(
            "rep_id",
            load=pl.col("accounts") * pl.col("delta_account")
            + pl.col("leads") * pl.col("delta_lead"),
            received=pl.col("accounts") + pl.col("leads"),
        )
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
    off_hours = (
        able & ~any_working & ~pl.col("working_now") & (pl.col("next_start") == first_start)
    )
    return members.with_columns(
        eligible_lead=working | off_hours.fill_null(False),
        off_hours=off_hours.fill_null(False),
        lead_able=able,
    )


def off_duty_members(members: pl.DataFrame) -> pl.DataFrame:
    """Per territory (or lead group), members who could take a lead but are outside
    their working hours, as rationale text: "Ana Silva (starts 09:00 Europe/Berlin)"."""
    return (
        members.lazy()
        .filter(pl.col("lead_able") & ~pl.col("working_now"))
        .sort("territory_id", "next_start", "rep_name", nulls_last=True)
        .group_by("territory_id", maintain_order=True)
        .agg(
            off_duty_text=pl.concat_str(
                [pl.col("rep_name"), _with_start()], ignore_nulls=True
            ).head(3).str.join(", "),
            off_duty_count=pl.len(),
        )
        .select(
            "territory_id",
            off_duty_text=pl.when(pl.col("off_duty_count") > 3)
            .then(pl.format("{} and {} more", "off_duty_text", pl.col("off_duty_count") - 3))
            .otherwise(pl.col("off_duty_text")),
        )
        .collect(engine="in-memory")
    )


def _with_start() -> pl.Expr:
    return pl.concat_str([pl.lit(" (starts "), pl.col("next_start_text"), pl.lit(")")])


def start_picks(members: pl.DataFrame) -> pl.DataFrame:
    """Who each territory would hand its first account / first lead to at the start of run.

    Used to describe competing territories in conflicts and candidates; the actual
    placement is `place`.
    """
    types = pl.DataFrame({"record_type": ["account", "lead"]})
    return (
        members.lazy()
        .join(types.lazy(), how="cross")
        .filter(pl.when(pl.col("record_type") == "lead").then(pl.col("eligible_lead"))
                .otherwise(pl.col("eligible")))
        .with_columns(key=pl.col("index") + delta_for(pl.col("record_type")) / pl.col("weight"))
        .sort("territory_id", "record_type", "key", "rr_position", "rep_id")
        .group_by("territory_id", "record_type", maintain_order=True)
        .agg(pick_owner_id=pl.col("rep_id").first())
        .collect(engine="in-memory")
    )


def skipped_members(members: pl.DataFrame) -> pl.DataFrame:
    """Per territory, the members skipped at the start and why, as rationale text."""
    return (
        members.lazy()
        .filter(~pl.col("eligible"))
        .sort("territory_id", "rep_name", "rep_id")
        .group_by("territory_id", maintain_order=True)
        .agg(
            skipped_text=pl.format("{} ({})", "rep_name", "skip_reason").head(3).str.join(", "),
            skipped_count=pl.len(),
        )
        .with_columns(
            skipped_text=pl.when(pl.col("skipped_count") > 3)
            .then(pl.format("{} and {} more", "skipped_text", pl.col("skipped_count") - 3))
            .otherwise(pl.col("skipped_text"))
        )
        .select("territory_id", "skipped_text")
        .collect(engine="in-memory")
    )


def territory_layers(
    pending_territories: pl.DataFrame, members: pl.DataFrame, order: pl.DataFrame
) -> pl.DataFrame:
    """Layer of each territory with pending records (see the module docstring).

    ``order`` maps territory_id to its processing rank. Iterates to a fixed point; the
    number of iterations is the depth of the shared-rep chain, not the number of records.
    A member shares a territory's headroom when it may take its accounts or its leads.
    """
    ranked = pending_territories.join(order, on="territory_id", how="inner")
    takes = pl.col("eligible")
    if "eligible_lead" in members.columns:
        takes = takes | pl.col("eligible_lead")
    shared = (
        members.filter(takes)
        .select("territory_id", "rep_id")
        .join(ranked, on="territory_id", how="inner")
    )
    edges = (
        shared.join(shared, on="rep_id", suffix="_late")
        .filter(pl.col("territory_rank") < pl.col("territory_rank_late"))
        .select(early="territory_id", late="territory_id_late")
        .unique()
    )
    layers = ranked.select("territory_id", layer=pl.lit(0, pl.Int64))
    if edges.is_empty():
        return layers
    for _ in range(layers.height):
        raised = (
            edges.join(layers, left_on="early", right_on="territory_id")
            .group_by("late")
            .agg(floor=pl.col("layer").max() + 1)
        )
        updated = (
            layers.join(raised, left_on="territory_id", right_on="late", how="left")
            .with_columns(layer=pl.max_horizontal("layer", pl.col("floor").fill_null(0)))
            .select("territory_id", "layer")
        )
        if updated.equals(layers):
            break
        layers = updated
    return layers


def _offered(record_type: str, high_water: float) -> pl.Expr:
    """Records a member can take below high water, at most the batch's ``n``."""
    delta = pl.col("delta_lead" if record_type == "lead" else "delta_account")
    index, n = pl.col("index"), pl.col("n")
    return (
        pl.when(index >= high_water)
        .then(pl.lit(0, pl.Int64))
        .when(delta > 0)
        .then(
            pl.min_horizontal(
                n.cast(pl.Float64), ((high_water - index) / delta).ceil() + 1
            ).cast(pl.Int64)
        )
        .otherwise(n)
    )


_SLOT_COLUMNS = ("territory_id", "rep_id", "k", "delta", "key", "rr_position", "off_hours",
                 "next_start_text", "home_territory_id", "method")


def _slots(
    batch: pl.DataFrame, members: pl.LazyFrame, record_type: str, high_water: float
) -> pl.LazyFrame:
    """The slots a batch can use: per territory at most as many as it has records.

    Besides the high-water limit, a rep offers only slots that can be among the N
    smallest: if some rep alone offers N slots with keys up to U, no slot above U is
    needed. This keeps the exploded table near N rows even when capacity is ample.
    """
    delta = pl.col("delta_lead" if record_type == "lead" else "delta_account")
    index, weight, n = pl.col("index"), pl.col("weight"), pl.col("n")
    counts = batch.lazy().group_by("territory_id").agg(n=pl.len().cast(pl.Int64))
    by_capacity = _offered(record_type, high_water)
    # Only a rep that really has N slots below high water bounds the others.
    bound = (
        pl.when(index + (n - 1) * delta < high_water)
        .then(index + n * delta / weight)
        .min()
        .over("territory_id")
    )
    needed = (
        pl.when(pl.col("bound").is_null())
        .then(pl.col("offered"))
        .when(delta > 0)
        .then(
            pl.min_horizontal(
                pl.col("offered").cast(pl.Float64),
                ((pl.col("bound") - index) * weight / delta).floor() + 1,
            ).cast(pl.Int64)
        )
        .when(index <= pl.col("bound"))
        .then(pl.col("offered"))
        .otherwise(pl.lit(0, pl.Int64))
    )
    return (
        members.join(counts, on="territory_id", how="inner")
        .with_columns(delta=delta)
        .with_columns(offered=by_capacity)
        .with_columns(bound=bound)
        .with_columns(slots=pl.max_horizontal(needed, pl.lit(0, pl.Int64)))
        .filter(pl.col("slots") > 0)
        .with_columns(k=pl.int_ranges(1, pl.col("slots") + 1))
        .explode("k")
        .filter(index + (pl.col("k") - 1) * pl.col("delta") < high_water)
        .with_columns(key=index + pl.col("k") * pl.col("delta") / weight)
        .select(*_SLOT_COLUMNS, "index")
    )


def _turn_slots(
    batch: pl.DataFrame, members: pl.LazyFrame, record_type: str, high_water: float,
    used: pl.DataFrame,
) -> pl.LazyFrame:
    """The slots of round-robin members: their turns in the rotation after the positions
    earlier batches used (switchboard.engine.rotation), as many as capacity allows."""
    delta = pl.col("delta_lead" if record_type == "lead" else "delta_account")
    counts = batch.lazy().group_by("territory_id").agg(n=pl.len().cast(pl.Int64))
    return (
        rotation.turn_slots(
            members.join(counts, on="territory_id", how="inner")
            .with_columns(delta=delta, slots=_offered(record_type, high_water))
            .filter(pl.col("rr_turns").is_not_null()),
            used.lazy(),
        )
        .filter(pl.col("index") + (pl.col("k") - 1) * pl.col("delta") < high_water)
        .select(*_SLOT_COLUMNS, "index")
    )


def _ranked(slots: pl.LazyFrame) -> pl.LazyFrame:
    """Slots in pick order per territory (``rank`` 0, 1, ...): key, rr_position, rep_id."""
    return (
        slots.sort("territory_id", "key", "rr_position", "rep_id", "k")
        .with_columns(rank=pl.int_range(pl.len(), dtype=pl.UInt32).over("territory_id"))
        .select(
            "territory_id",
            "rank",
            "rep_id",
            "k",
            "delta",
            alloc_index=pl.col("index") + (pl.col("k") - 1) * pl.col("delta"),
            alloc_off_hours="off_hours",
            alloc_next_start_text="next_start_text",
            alloc_rr_position=pl.when(pl.col("method") == rotation.ROUND_ROBIN).then("key"),
            alloc_home_territory_id="home_territory_id",
        )
    )


def _follower_load(placed: pl.DataFrame, followers: pl.DataFrame,
                   members: pl.DataFrame) -> pl.DataFrame:
    """Index points (``used``) the leads following the just-placed accounts add to their
    new owners: one lead's delta each."""
    return (
        placed.lazy()
        .select("seq", "rep_id")
        .join(followers.lazy(), on="seq", how="inner")
        .group_by("rep_id")
        .agg(pl.col("leads").sum())
        .join(members.lazy().select("rep_id", "delta_lead").unique("rep_id"), on="rep_id")
        .select("rep_id", used=pl.col("leads") * pl.col("delta_lead"))
        .collect(engine="in-memory")
    )


def place(
    pending: pl.DataFrame,
    members: pl.DataFrame,
    order: pl.DataFrame,
    config: RoutingConfig,
    *,
    followers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Place pending records (seq, record_type, territory_id) on territory members.

    Returns PLACED_SCHEMA: ``seq``, the owner and the owner's index just before the
    placement (and how it was picked); records not returned overflow. Loops over layers x
    record types only, never over records. Accounts go to ``eligible`` members, leads to
    ``eligible_lead`` ones (working hours, skills). ``territory_id`` may be a lead group
    (lead_groups); ``home_territory_id`` names the territory whose rotation a
    round-robin member's turns come from.

    ``followers`` (seq of an account, ``leads``) counts the leads that follow an account
    to whoever the placement gives it: after each accounts pass their load is added to the
    new owners, so later passes (the leads of that layer, later layers) see it.
    """
    if pending.is_empty():
        return pl.DataFrame(schema=PLACED_SCHEMA)
    hw = config.workload.high_water
    eligible = members.filter(pl.col("eligible") | pl.col("eligible_lead"))
    layers = territory_layers(pending.select("territory_id").unique(), eligible, order)
    work = pending.join(layers, on="territory_id", how="inner").with_columns(
        lead_pass=pl.col("record_type") == "lead"
    )
    has_turns = bool((eligible["method"] == rotation.ROUND_ROBIN).any())
    consumed = pl.DataFrame(schema={"rep_id": pl.String(), "used": pl.Float64()})
    turns_used = pl.DataFrame(schema={"home_territory_id": pl.String(),
                                      "positions": pl.Int64()})
    placed: list[pl.DataFrame] = []
    batches = work.partition_by("layer", "lead_pass", as_dict=True, maintain_order=False)
    for key in sorted(batches):
        batch = batches[key]
        record_type = "lead" if key[1] else "account"
        current = (
            eligible.lazy()
            .filter(pl.col("eligible_lead" if record_type == "lead" else "eligible"))
            .join(batch.lazy().select("territory_id").unique(), on="territory_id", how="semi")
            .join(consumed.lazy(), on="rep_id", how="left")
            .with_columns(
                index=pl.col("index") + pl.col("used").fill_null(0.0),
                # Working hours are about leads; an account is never "off hours".
                off_hours=pl.col("off_hours") & pl.lit(record_type == "lead"),
            )
            .drop("used")
        )
        if has_turns:
            by_workload = current.filter(pl.col("method") != rotation.ROUND_ROBIN)
            by_turn = current.filter(pl.col("method") == rotation.ROUND_ROBIN)
            slots = _ranked(pl.concat([
                _slots(batch, by_workload, record_type, hw),
                _turn_slots(batch, by_turn, record_type, hw, turns_used),
            ]))
        else:
            slots = _ranked(_slots(batch, current, record_type, hw))
        result = (
            batch.lazy()
            .with_columns(
                rank=(pl.col("seq").rank("ordinal").over("territory_id") - 1).cast(pl.UInt32)
            )
            .join(slots, on=["territory_id", "rank"], how="inner")
            .collect(engine="in-memory")
        )
        placed.append(result.select(
            "seq", *[c for c in PLACED_SCHEMA if c not in {"alloc_owner_id", "seq"}],
            alloc_owner_id="rep_id",
        ))
        used_now = result.group_by("rep_id").agg(used=pl.col("k").max() * pl.col("delta").first())
        if record_type == "account" and followers is not None and not followers.is_empty():
            used_now = pl.concat([used_now, _follower_load(result, followers, eligible)])
        consumed = pl.concat([consumed, used_now]).group_by("rep_id").agg(pl.col("used").sum())
        if has_turns:
            turns_used = (
                pl.concat([turns_used, positions_used(placed[-1])])
                .group_by("home_territory_id")
                .agg(pl.col("positions").max())
            )
    return pl.concat(placed, how="diagonal_relaxed").select(list(PLACED_SCHEMA)).cast(
        PLACED_SCHEMA  # type: ignore[arg-type]
    )


def positions_used(placed: pl.DataFrame) -> pl.DataFrame:
    """Per round-robin territory, the rotation positions its placed records went past."""
    return (
        placed.filter(pl.col("alloc_rr_position").is_not_null())
        .group_by(home_territory_id="alloc_home_territory_id")
        .agg(positions=(pl.col("alloc_rr_position").max() + 1).cast(pl.Int64))
    )


def lead_groups(pending: pl.DataFrame, members: pl.DataFrame, order: pl.DataFrame
                ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Leads with required skills, or with members they must not go to, placed as groups
    of their own.

    ``pending`` carries ``required_skills`` (lower-cased, sorted, distinct) and, optionally,
    ``excluded`` (sorted rep ids: the reps a lead past its first-touch SLA already had,
    switchboard.engine.sla). Such a lead is placed in the group ``territory_id +
    GROUP_SEPARATOR + skills`` (``+ GROUP_SEPARATOR + excluded reps``, when any): the
    territory's members whose skills cover them all and who are not excluded, with working
    hours judged among those members (with_lead_eligibility). Groups come after their
    territory in ``order``, so a territory's accounts and plain leads are placed first.

    Returns the pending records (``territory_id`` the group), the members with the
    groups' rows added (``skilled``: how many members of the group's territory have the
    skills, available or not), and the order.
    """
    if "excluded" not in pending.columns:
        pending = pending.with_columns(excluded=pl.lit([], pl.List(pl.String())))
    pending = pending.with_columns(pl.col("excluded").fill_null(pl.lit([], pl.List(pl.String()))))
    skills_key = pl.col("required_skills").list.join(", ")
    sub_key = pl.concat_str([skills_key, pl.lit(GROUP_SEPARATOR),
                             pl.col("excluded").list.join(",")])
    needs = pending.filter((pl.col("required_skills").list.len() > 0)
                           | (pl.col("excluded").list.len() > 0))
    if needs.is_empty():
        return (pending.drop("excluded"), members.with_columns(skilled=pl.lit(None, pl.UInt32)),
                order)
    keys = ["territory_id", "required_skills", "excluded"]
    groups = (
        needs.select(keys)
        .unique()
        .with_columns(group_id=pl.concat_str([
            pl.col("territory_id"), pl.lit(GROUP_SEPARATOR), skills_key,
            pl.when(pl.col("excluded").list.len() > 0).then(pl.concat_str([
                pl.lit(GROUP_SEPARATOR), pl.col("excluded").list.join(","),
            ])).otherwise(pl.lit("")),
        ]))
    )
    covers = pl.col("required_skills").list.set_difference(pl.col("skills")).list.len() == 0
    allowed = ~pl.col("excluded").list.contains(pl.col("rep_id"))
    group_members = (
        groups.lazy()
        .join(members.lazy().drop("eligible_lead", "off_hours"), on="territory_id")
        .with_columns(covers=covers, allowed=allowed)
        .with_columns(
            skilled=pl.col("covers").sum().over("group_id"),
            territory_id=pl.col("group_id"),
            eligible=pl.lit(False),
        )
        .pipe(with_lead_eligibility,
              pl.col("covers") & pl.col("allowed") & pl.col("skip_reason").is_null())
        .drop("group_id", "required_skills", "excluded", "covers", "allowed")
        .collect(engine="in-memory")
    )
    grouped = pending.join(
        groups.select(*keys, "group_id"), on=keys, how="left",
    ).with_columns(territory_id=pl.coalesce("group_id", "territory_id")).drop(
        "group_id", "excluded")
    ranked = (
        pl.concat([
            order.select("territory_id", "territory_rank", sub=pl.lit("")),
            groups.join(order, on="territory_id").select(
                territory_id="group_id", territory_rank="territory_rank",
                sub=sub_key,
            ),
        ])
        .sort("territory_rank", "sub", "territory_id")
        .select("territory_id", territory_rank=pl.int_range(pl.len(), dtype=pl.Int64))
    )
    all_members = pl.concat(
        [members.with_columns(skilled=pl.lit(None, pl.UInt32)), group_members],
        how="diagonal_relaxed",
    )
    return grouped, all_members, ranked
