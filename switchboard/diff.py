"""What a run would change: records moved, per-rep load before and after, flags.

Used by `run territory-change --dry-run` and `whatif` to show a plan before it happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class PlanDiff:
    moved: pl.DataFrame        # record_type, record_id, from_owner_id, to_owner_id, queue, rule
    flagged: pl.DataFrame      # manager-review decisions (pipeline accounts)
    per_rep: pl.DataFrame      # rep_id, rep_name, before, after, change
    conflicts: pl.DataFrame    # conflicts the run would log
    unchanged: int             # records needing no move

    def headline(self) -> str:
        return (
            f"{self.moved.height} records would move, {self.flagged.height} pipeline accounts "
            f"flagged for manager review, {self.conflicts.height} conflicts, "
            f"{self.unchanged} accounts unchanged."
        )


def plan_diff(
    decisions: pl.DataFrame,
    conflicts: pl.DataFrame,
    accounts: pl.LazyFrame,
    reps: pl.LazyFrame,
) -> PlanDiff:
    """Compare the current book (accounts.owner_id) with the book after ``decisions``."""
    moves = decisions.filter(
        (pl.col("rule") != "manager_review")
        & (pl.col("owner_id").is_null() | (pl.col("owner_id") != pl.col("previous_owner_id"))
           | pl.col("previous_owner_id").is_null())
    ).select(
        "record_type", "record_id",
        pl.col("previous_owner_id").alias("from_owner_id"),
        pl.col("owner_id").alias("to_owner_id"),
        "queue", "rule", "rationale",
    )
    account_moves = moves.filter(pl.col("record_type") == "account").lazy()
    before = (
        accounts.filter(pl.col("owner_id").is_not_null())
        .group_by(pl.col("owner_id").alias("rep_id"))
        .agg(before=pl.len())
    )
    outgoing = account_moves.filter(pl.col("from_owner_id").is_not_null()).group_by(
        pl.col("from_owner_id").alias("rep_id")).agg(out=pl.len())
    incoming = account_moves.filter(pl.col("to_owner_id").is_not_null()).group_by(
        pl.col("to_owner_id").alias("rep_id")).agg(inc=pl.len())
    per_rep = (
        reps.select("rep_id", "rep_name")
        .join(before, on="rep_id", how="left")
        .join(outgoing, on="rep_id", how="left")
        .join(incoming, on="rep_id", how="left")
        .with_columns(pl.col("before", "out", "inc").fill_null(0).cast(pl.Int64))
        .with_columns(after=pl.col("before") - pl.col("out") + pl.col("inc"))
        .with_columns(change=pl.col("after") - pl.col("before"))
        .filter(pl.col("change") != 0)
        .select("rep_id", "rep_name", "before", "after", "change")
        .sort("change", "rep_id")
        .collect()
    )
    owned = accounts.filter(pl.col("owner_id").is_not_null()).select(pl.len()).collect().item()
    moved_owned = account_moves.filter(pl.col("from_owner_id").is_not_null()).select(
        pl.len()).collect().item()
    return PlanDiff(
        moved=moves,
        flagged=decisions.filter(pl.col("rule") == "manager_review"),
        per_rep=per_rep,
        conflicts=conflicts,
        unchanged=int(owned - moved_owned),
    )
