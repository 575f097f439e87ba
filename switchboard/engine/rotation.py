"""Round-robin territories: a strict weighted rotation that continues from run to run.

A territory whose ``method`` is ``round_robin`` (data_contracts/territories.yml) hands its
records out in a fixed *rotation*: one cycle lists every member with positive weight as
many times as its weight (weights read to two decimals and reduced, so 2:1:1 is a cycle
of four). The order inside the cycle interleaves the members so that after any number of
records every member is within one record of its weighted share (the worst-case fair
weighted queueing schedule, WF2Q, of unit records). Each record takes the next position;
a member that cannot take it (unavailable, at high water, outside working hours, without
the lead's skills) loses that turn and the rotation moves on. ``routing.round_robin``
keeps, per territory, the position the next run starts from and a key of the cycle's
members and weights: a changed membership or weight starts a new rotation at position 0.

The cycle depends only on the plan (members and weights), not on records: it is built
once per distinct weight list (cached), a loop over the cycle's positions. Placement
itself stays vectorised (switchboard.engine.capacity): a member's k-th turn after the
territory's position is a formula of its offsets in the cycle.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from fractions import Fraction
from functools import cache, reduce
from math import gcd

import polars as pl

from switchboard.engine.schema import ROUND_ROBIN as STATE_SCHEMA

ROUND_ROBIN = "round_robin"
WORKLOAD = "workload"
METHODS = (WORKLOAD, ROUND_ROBIN)

# Longest cycle built; weights are rounded more coarsely until the cycle fits.
MAX_CYCLE = 2_000


# Per member of a round-robin territory: its offsets in the cycle (sorted, relative to the
# position the run starts at), the cycle's length and how many turns it has per cycle.
ROTATION_SCHEMA: dict[str, pl.DataType] = {
    "territory_id": pl.String(),
    "rep_id": pl.String(),
    "rr_offsets": pl.List(pl.Int64()),
    "rr_turns": pl.Int64(),
    "rr_length": pl.Int64(),
    "rr_start": pl.Int64(),
    "cycle_key": pl.String(),
}


def integer_weights(weights: tuple[float, ...]) -> tuple[int, ...]:
    """Weights as the smallest integers in the same ratio (to two decimals), shrunk until
    a cycle is at most MAX_CYCLE long."""
    for scale in (100, 10, 1):
        ints = [max(1, round(w * scale)) for w in weights]
        divisor = reduce(gcd, ints)
        ints = [i // divisor for i in ints]
        if sum(ints) <= MAX_CYCLE or scale == 1:
            break
    while sum(ints) > MAX_CYCLE:
        ints = [max(1, i // 2) for i in ints]
    return tuple(ints)


@cache
def cycle(weights: tuple[int, ...]) -> tuple[int, ...]:
    """The member index at each position of one cycle (WF2Q over unit records).

    At step n, a member is eligible once its next record's virtual start (turns taken /
    weight) is not after n / total; of those, the one whose record would finish first
    (turns + 1) / weight goes, ties to the lower index. Every member's count after n
    steps stays within one of n * weight / total.
    """
    total = sum(weights)
    taken = [0] * len(weights)
    order: list[int] = []
    for step in range(total):
        best: tuple[Fraction, int] | None = None
        for member, weight in enumerate(weights):
            if taken[member] * total > step * weight:
                continue
            finish = Fraction(taken[member] + 1, weight)
            if best is None or finish < best[0]:
                best = (finish, member)
        assert best is not None  # some member is always eligible
        taken[best[1]] += 1
        order.append(best[1])
    return tuple(order)


def rotations(members: pl.DataFrame, state: pl.LazyFrame) -> pl.DataFrame:
    """ROTATION_SCHEMA rows for the members of round-robin territories.

    ``members``: territory_id, rep_id, weight, method (one row per membership). Members
    with weight 0 are not in the rotation. ``state``: routing.round_robin of the previous
    run; a territory whose cycle_key changed starts at position 0.
    """
    rr = (
        members.filter((pl.col("method") == ROUND_ROBIN) & (pl.col("weight") > 0))
        .select("territory_id", "rep_id", "weight")
        .sort("territory_id", "rep_id")
    )
    if rr.is_empty():
        return pl.DataFrame(schema=ROTATION_SCHEMA)
    previous = state.select("territory_id", "cycle_key", "position").collect()
    rows: list[dict[str, object]] = []
    for (territory_id,), team in rr.partition_by(
        "territory_id", as_dict=True, maintain_order=True
    ).items():
        reps = team["rep_id"].to_list()
        weights = integer_weights(tuple(float(w) for w in team["weight"].to_list()))
        key = cycle_key(reps, weights)
        order = cycle(weights)
        length = len(order)
        stored = previous.filter(
            (pl.col("territory_id") == territory_id) & (pl.col("cycle_key") == key)
        )
        start = int(stored["position"][0]) % length if stored.height else 0
        offsets: dict[int, list[int]] = {}
        for position, member in enumerate(order):
            offsets.setdefault(member, []).append((position - start) % length)
        for member, rep_id in enumerate(reps):
            rows.append(
                {
                    "territory_id": territory_id,
                    "rep_id": rep_id,
                    "rr_offsets": sorted(offsets[member]),
                    "rr_turns": weights[member],
                    "rr_length": length,
                    "rr_start": start,
                    "cycle_key": key,
                }
            )
    return pl.DataFrame(rows, schema=ROTATION_SCHEMA)


def cycle_key(reps: list[str], weights: tuple[int, ...]) -> str:
    """Identifies a cycle: its members and integer weights, in rep_id order."""
    text = ";".join(f"{rep}*{weight}" for rep, weight in zip(reps, weights, strict=True))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def next_state(rotation: pl.DataFrame, used: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """routing.round_robin after the run: each territory's start moved past the positions
    its records used (``used``: home_territory_id, ``positions``)."""
    return (
        rotation.lazy()
        .unique("territory_id")
        .join(
            used.lazy().rename({"home_territory_id": "territory_id"}), on="territory_id", how="left"
        )
        .select(
            "territory_id",
            "cycle_key",
            position=(pl.col("rr_start") + pl.col("positions").fill_null(0)) % pl.col("rr_length"),
            updated_at=pl.lit(as_of, pl.Datetime("us")),
        )
        .sort("territory_id")
        .collect()
        .cast(STATE_SCHEMA)  # type: ignore[arg-type]
    )


def turn_slots(members: pl.LazyFrame, used: pl.LazyFrame) -> pl.LazyFrame:
    """A round-robin member's turns: slot ``k`` (1, 2, ... up to ``slots``) at absolute
    position ``key`` (counted from the position the run started at).

    ``members``: rotation columns, ``home_territory_id`` and ``slots`` (the turns the
    member may take: what capacity allows, at most the batch's records); ``used``: per
    home territory, the positions earlier batches of this run went past (``positions``).
    The member's turns are its offsets in the current lap that are still ahead, then
    every later lap's: turn ``idx`` (0-based from the run's start) sits at
    ``length * (idx // turns) + offsets[idx % turns]``.
    """
    base = (
        members.join(used, on="home_territory_id", how="left")
        .with_columns(positions=pl.col("positions").fill_null(0))
        .with_row_index("_member")
    )
    passed = (
        base.select("_member", "rr_offsets", "positions", "rr_length")
        .explode("rr_offsets")
        .group_by("_member")
        .agg(
            passed=(pl.col("rr_offsets") < pl.col("positions") % pl.col("rr_length"))
            .sum()
            .cast(pl.Int64)
        )
    )
    first = pl.col("passed") + pl.col("rr_turns") * (pl.col("positions") // pl.col("rr_length"))
    idx = pl.col("_first") + pl.col("k") - 1
    return (
        base.join(passed, on="_member", how="left")
        .with_columns(_first=first)
        .filter(pl.col("slots") > 0)
        .with_columns(k=pl.int_ranges(1, pl.col("slots") + 1))
        .explode("k")
        .with_columns(
            key=(
                pl.col("rr_length") * (idx // pl.col("rr_turns"))
                + pl.col("rr_offsets").list.get(idx % pl.col("rr_turns"))
            ).cast(pl.Float64)
        )
        .drop("_member", "_first", "passed", "positions")
    )
