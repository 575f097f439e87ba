"""The what-if comparison's shapes: the frames' schemas, one side's outcome (``Side``) and
the comparison of two sides (``PlanDiff``) with its one-line headline."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

KEYS = ["record_type", "record_id"]
# A record one config leaves where it is: its rule in moves.csv.
KEPT = "kept"

MOVES_SCHEMA: dict[str, pl.DataType] = {
    name: pl.String()
    for name in (
        "record_type",
        "record_id",
        "record_name",
        "from_owner_id",
        "from_owner_name",
        "from_queue",
        "to_owner_id",
        "to_owner_name",
        "to_queue",
        "from_rule",
        "to_rule",
        "from_territory_id",
        "from_territory_name",
        "to_territory_id",
        "to_territory_name",
        "rationale",
    )
}
# Where records sit that a config may leave undecided (switchboard.queued: settled in a
# queue or pool): their latest published decision.
WAITING_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "queue": pl.String(),
    "rule": pl.String(),
    "territory_id": pl.String(),
}
NAMES_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "record_name": pl.String(),
}
# Side.reps: the roster as the side's marts describe it, with its workload deltas.
REPS_SCHEMA: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "rep_name": pl.String(),
    "team": pl.String(),
    "is_available": pl.Boolean(),
    "workload_index": pl.Float64(),
    "delta_account": pl.Float64(),
    "delta_lead": pl.Float64(),
}
PER_REP_SCHEMA: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "rep_name": pl.String(),
    "team": pl.String(),
    "records_in": pl.Int64(),
    "records_out": pl.Int64(),
    "workload_before": pl.Float64(),
    "workload_after": pl.Float64(),
    "workload_change": pl.Float64(),
}
PER_TERRITORY_SCHEMA: dict[str, pl.DataType] = {
    "territory_id": pl.String(),
    "territory_name": pl.String(),
    "records_in": pl.Int64(),
    "records_out": pl.Int64(),
    "moved_within": pl.Int64(),
    "members_before": pl.Int64(),
    "members_after": pl.Int64(),
    "mean_workload_before": pl.Float64(),
    "mean_workload_after": pl.Float64(),
    "max_deviation_before": pl.Float64(),
    "max_deviation_after": pl.Float64(),
}
# Workload figures are shown to one decimal; smaller differences are no change.
_PLACES = 1
_EPSILON = 0.05


@dataclass(frozen=True)
class Side:
    """What one config and plan decide on the export, and the roster and plan they
    decided against (read from the marts that side was routed on)."""

    decisions: pl.DataFrame  # the engine's decisions (switchboard.engine.schema.DECISIONS)
    conflicts: pl.DataFrame  # the conflicts it logged
    rep_state: pl.DataFrame  # rep_id, is_overflowing, … after the run
    reps: pl.DataFrame  # REPS_SCHEMA
    members: pl.DataFrame  # territory_id, rep_id
    territories: pl.DataFrame  # territory_id, territory_name

    @property
    def overflow(self) -> int:
        """Records sent to an overflow queue (or a territory's backup owner)."""
        return self.decisions.filter(pl.col("rule") == "overflow_queue").height


@dataclass(frozen=True)
class PlanDiff:
    """The new config's outcome against the current one's, on the same export."""

    moves: pl.DataFrame  # MOVES_SCHEMA: every record whose owner or queue differs
    per_territory: pl.DataFrame  # PER_TERRITORY_SCHEMA: territories the change touches
    per_rep: pl.DataFrame  # PER_REP_SCHEMA: reps the change touches
    decided: int  # records either config decides
    conflicts_before: int = 0
    conflicts_after: int = 0
    overflow_before: int = 0
    overflow_after: int = 0
    newly_overflowing: list[str] = field(default_factory=list)  # reps over high water

    @property
    def to_queues(self) -> int:
        """Moves that leave a record in a queue or pool rather than with a rep."""
        return self.moves.filter(pl.col("to_owner_id").is_null()).height

    def count(self, record_type: str) -> int:
        return self.moves.filter(pl.col("record_type") == record_type).height

    def headline(self) -> str:
        text = (
            f"{_plural(self.moves.height, 'record')} would move "
            f"({_plural(self.count('account'), 'account')}, "
            f"{_plural(self.count('lead'), 'lead')}; {self.to_queues} to a queue) of the "
            f"{_plural(self.decided, 'record')} the two configs decide; overflow "
            f"{self.overflow_before} → {self.overflow_after} records, conflicts "
            f"{self.conflicts_before} → {self.conflicts_after}"
        )
        if self.newly_overflowing:
            shown = ", ".join(self.newly_overflowing[:5])
            more = len(self.newly_overflowing) - 5
            text += (
                f"; {_plural(len(self.newly_overflowing), 'rep')} would newly stop "
                "taking records "
                f"({shown}{f' and {more} more' if more > 0 else ''})"
            )
        return text + "."


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
