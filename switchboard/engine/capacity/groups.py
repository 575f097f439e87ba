"""Lead groups: leads that need skills, or must not go back to reps who held them, placed
with the members of their territory who qualify."""

from __future__ import annotations

import polars as pl

from switchboard.engine.capacity.state import with_lead_eligibility

# Joins a territory id and a lead's required skills into the id of the lead group placed
# with the members who have those skills.
GROUP_SEPARATOR = "\x1f"


def lead_groups(
    pending: pl.DataFrame, members: pl.DataFrame, order: pl.DataFrame
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
    sub_key = pl.concat_str(
        [skills_key, pl.lit(GROUP_SEPARATOR), pl.col("excluded").list.join(",")]
    )
    needs = pending.filter(
        (pl.col("required_skills").list.len() > 0) | (pl.col("excluded").list.len() > 0)
    )
    if needs.is_empty():
        return (
            pending.drop("excluded"),
            members.with_columns(skilled=pl.lit(None, pl.UInt32)),
            order,
        )
    keys = ["territory_id", "required_skills", "excluded"]
    groups = (
        needs.select(keys)
        .unique()
        .with_columns(
            group_id=pl.concat_str(
                [
                    pl.col("territory_id"),
                    pl.lit(GROUP_SEPARATOR),
                    skills_key,
                    pl.when(pl.col("excluded").list.len() > 0)
                    .then(
                        pl.concat_str([pl.lit(GROUP_SEPARATOR), pl.col("excluded").list.join(",")])
                    )
                    .otherwise(pl.lit("")),
                ]
            )
        )
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
        .pipe(
            with_lead_eligibility,
            pl.col("covers") & pl.col("allowed") & pl.col("skip_reason").is_null(),
        )
        .drop("group_id", "required_skills", "excluded", "covers", "allowed")
        .collect(engine="in-memory")
    )
    grouped = (
        pending.join(groups.select(*keys, "group_id"), on=keys, how="left")
        .with_columns(territory_id=pl.coalesce("group_id", "territory_id"))
        .drop("group_id", "excluded")
    )
    ranked = (
        pl.concat(
            [
                order.select("territory_id", "territory_rank", sub=pl.lit("")),
                groups.join(order, on="territory_id").select(
                    territory_id="group_id", territory_rank="territory_rank", sub=sub_key
                ),
            ]
        )
        .sort("territory_rank", "sub", "territory_id")
        .select("territory_id", territory_rank=pl.int_range(pl.len(), dtype=pl.Int64))
    )
    all_members = pl.concat(
        [members.with_columns(skilled=pl.lit(None, pl.UInt32)), group_members],
        how="diagonal_relaxed",
    )
    return grouped, all_members, ranked
