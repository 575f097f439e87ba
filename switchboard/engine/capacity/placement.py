"""`place`: the records of a batch zipped with the smallest slots of their territory's
members, territories in layers of no shared rep (see the package docstring)."""

from __future__ import annotations

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine import rotation

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
            pl.min_horizontal(n.cast(pl.Float64), ((high_water - index) / delta).ceil() + 1).cast(
                pl.Int64
            )
        )
        .otherwise(n)
    )


_SLOT_COLUMNS = (
    "territory_id",
    "rep_id",
    "k",
    "delta",
    "key",
    "rr_position",
    "off_hours",
    "next_start_text",
    "home_territory_id",
    "method",
)


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
    batch: pl.DataFrame,
    members: pl.LazyFrame,
    record_type: str,
    high_water: float,
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


def _follower_load(
    placed: pl.DataFrame, followers: pl.DataFrame, members: pl.DataFrame
) -> pl.DataFrame:
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
    turns_used = pl.DataFrame(schema={"home_territory_id": pl.String(), "positions": pl.Int64()})
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
            slots = _ranked(
                pl.concat(
                    [
                        _slots(batch, by_workload, record_type, hw),
                        _turn_slots(batch, by_turn, record_type, hw, turns_used),
                    ]
                )
            )
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
        placed.append(
            result.select(
                "seq",
                *[c for c in PLACED_SCHEMA if c not in {"alloc_owner_id", "seq"}],
                alloc_owner_id="rep_id",
            )
        )
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
    return (
        pl.concat(placed, how="diagonal_relaxed")
        .select(list(PLACED_SCHEMA))
        .cast(
            PLACED_SCHEMA  # type: ignore[arg-type]
        )
    )


def positions_used(placed: pl.DataFrame) -> pl.DataFrame:
    """Per round-robin territory, the rotation positions its placed records went past."""
    return (
        placed.filter(pl.col("alloc_rr_position").is_not_null())
        .group_by(home_territory_id="alloc_home_territory_id")
        .agg(positions=(pl.col("alloc_rr_position").max() + 1).cast(pl.Int64))
    )
