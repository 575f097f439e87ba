"""The engine's inputs: the marts it reads, validated once and cast to one set of dtypes.

The engine is handed LazyFrames by the flow (read from the warehouse) or by tests (built
by hand). Either way every frame must carry the mart columns the rules read; a missing
column is a broken upstream model, so it fails here with the frame and column named,
not three joins later with a bare ``ColumnNotFoundError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl

TIMESTAMP = pl.Datetime("us")

# The columns the engine reads from each mart, with the dtype it works in. Extra columns
# are allowed and ignored; these are cast on the way in so hand-built frames (ints for
# tiers, naive or UTC timestamps, all-null columns of an empty frame) behave like marts.
FRAME_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "accounts": {
        "account_id": pl.String(),
        "account_name": pl.String(),
        "owner_id": pl.String(),
        "parent_account_id": pl.String(),
        "ultimate_parent_account_id": pl.String(),
        "tier": pl.Int64(),
        "created_at": TIMESTAMP,
    },
    "leads": {
        "lead_id": pl.String(),
        "owner_id": pl.String(),
        "matched_account_id": pl.String(),
        "match_method": pl.String(),
        "created_at": TIMESTAMP,
    },
    "opportunities": {
        "opportunity_id": pl.String(),
        "account_id": pl.String(),
        "owner_id": pl.String(),
        "amount": pl.Float64(),
        "created_at": TIMESTAMP,
    },
    "named_accounts": {"account_id": pl.String(), "owner_id": pl.String()},
    "reps": {
        "rep_id": pl.String(),
        "rep_name": pl.String(),
        "availability": pl.String(),
        "is_available": pl.Boolean(),
        "is_valid_owner": pl.Boolean(),
    },
    "territory_matches": {
        "record_type": pl.String(),
        "record_id": pl.String(),
        "territory_id": pl.String(),
        "territory_name": pl.String(),
        "match_source": pl.String(),
        "priority": pl.Int64(),
        "specificity": pl.Int64(),
        "overflow_queue": pl.String(),
    },
    "territory_members": {
        "territory_id": pl.String(),
        "rep_id": pl.String(),
        "weight": pl.Float64(),
    },
    "workload": {"rep_id": pl.String(), "workload_index": pl.Float64(), "capacity": pl.Float64()},
    "rep_state": {"rep_id": pl.String(), "is_overflowing": pl.Boolean(), "rr_position": pl.Int64()},
    # Records given to reps after ``workload`` was computed (earlier arrivals passes of the
    # day): they count towards each rep's start index.
    "recent_assignments": {"record_type": pl.String(), "rep_id": pl.String()},
    # routing.round_robin from the previous run: where each round-robin territory's
    # rotation stopped (switchboard.engine.rotation).
    "round_robin": {"territory_id": pl.String(), "cycle_key": pl.String(), "position": pl.Int64()},
    # The first-touch clocks of leads a territory gave a rep (int_lead_sla_clocks): which
    # ran out is the engine's to decide (switchboard.engine.sla).
    "sla_clocks": {
        "lead_id": pl.String(),
        "owner_id": pl.String(),
        "territory_id": pl.String(),
        "clock_started_at": TIMESTAMP,
        "reroutes": pl.Int64(),
        "held_by": pl.List(pl.String()),
        "first_touch_at": TIMESTAMP,
        "source": pl.String(),
    },
}

# Columns a frame may lack: exports and marts from before the contracts had them, and
# hand-built frames. A missing one reads as null (no time zone, no working hours, no
# skills, the workload method).
OPTIONAL_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "reps": {"skills": pl.List(pl.String()), "timezone": pl.String(), "working_hours": pl.String()},
    "leads": {"required_skills": pl.List(pl.String())},
    "territory_members": {"territory_method": pl.String()},
}

# Not a mart: the records a scoped run may decide (record_type, record_id). The other
# accounts in ``accounts`` are context only (a lead's matched account, named accounts).
SCOPE_COLUMNS: dict[str, pl.DataType] = {"record_type": pl.String(), "record_id": pl.String()}

# Frames a snapshot may legitimately lack (no CRM leads export, first run without state).
OPTIONAL_FRAMES = frozenset(
    {
        "leads",
        "opportunities",
        "named_accounts",
        "rep_state",
        "recent_assignments",
        "round_robin",
        "sla_clocks",
    }
)

# The warehouse table behind each input, accepted as an alias by `EngineInputs.from_frames`.
MART_NAMES: dict[str, str] = {
    "accounts": "dim_accounts",
    "leads": "dim_leads",
    "opportunities": "fct_open_opportunities",
    "named_accounts": "dim_named_accounts",
    "reps": "dim_reps",
    "territory_matches": "fct_territory_matches",
    "territory_members": "dim_territory_members",
    "workload": "fct_rep_workload",
    "rep_state": "rep_state",
    "recent_assignments": "routing.decisions since the workload build",
    "round_robin": "routing.round_robin",
    "sla_clocks": "int_lead_sla_clocks",
}

FrameLike = pl.DataFrame | pl.LazyFrame


class EngineInputError(ValueError):
    """An engine input frame is missing or lacks a column the rules read."""


def empty_frame(name: str) -> pl.LazyFrame:
    """An empty input with the engine's columns, for optional marts that were not supplied."""
    return pl.LazyFrame(schema={**FRAME_COLUMNS[name], **OPTIONAL_COLUMNS.get(name, {})})


def _cast(name: str, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Select the engine's columns of one frame in the engine's dtypes.

    Timestamps are compared with the naive-UTC ``as_of`` of the run, so zone-aware ones
    are converted to UTC and stripped; strings are parsed as ISO 8601.
    """
    schema = dict(frame.collect_schema())
    exprs: list[pl.Expr] = []
    for column, dtype in OPTIONAL_COLUMNS.get(name, {}).items():
        if column not in schema:
            frame = frame.with_columns(pl.lit(None, dtype).alias(column))
            schema[column] = dtype
    columns = {**FRAME_COLUMNS[name], **OPTIONAL_COLUMNS.get(name, {})}
    for column, dtype in columns.items():
        expr = pl.col(column)
        current = schema[column]
        if dtype == TIMESTAMP:
            if current == pl.String():
                expr = expr.str.to_datetime(time_unit="us", time_zone="UTC")
                current = pl.Datetime("us", "UTC")
            if isinstance(current, pl.Datetime) and current.time_zone is not None:
                expr = expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        exprs.append(expr.cast(dtype))
    return frame.select(exprs)


@dataclass(frozen=True)
class EngineInputs:
    """The marts the engine reads, as LazyFrames (see docs/ARCHITECTURE.md, "marts").

    ``workload`` holds the fct_rep_workload rows of the as-of date; when several dates are
    passed the latest row per rep is used. ``rep_state`` is routing.rep_state from the
    previous run and may be empty. ``sla_clocks`` (intermediate.int_lead_sla_clocks) is
    empty unless routing.yml has ``sla:``. Construction validates the columns of every
    frame.
    """

    accounts: pl.LazyFrame
    leads: pl.LazyFrame
    opportunities: pl.LazyFrame
    named_accounts: pl.LazyFrame
    reps: pl.LazyFrame
    territory_matches: pl.LazyFrame
    territory_members: pl.LazyFrame
    workload: pl.LazyFrame
    rep_state: pl.LazyFrame
    recent_assignments: pl.LazyFrame = field(
        default_factory=lambda: empty_frame("recent_assignments")
    )
    round_robin: pl.LazyFrame = field(default_factory=lambda: empty_frame("round_robin"))
    sla_clocks: pl.LazyFrame = field(default_factory=lambda: empty_frame("sla_clocks"))
    scope: pl.LazyFrame | None = None

    def __post_init__(self) -> None:
        if self.scope is not None:
            present = set(self.scope.collect_schema().names())
            if not set(SCOPE_COLUMNS) <= present:
                raise EngineInputError("engine scope needs columns record_type and record_id")
        for name, columns in FRAME_COLUMNS.items():
            frame = getattr(self, name)
            if not isinstance(frame, pl.LazyFrame):
                raise EngineInputError(
                    f"engine input '{name}' must be a polars LazyFrame, got {type(frame).__name__}"
                )
            present = set(frame.collect_schema().names())
            missing = [c for c in columns if c not in present]
            if missing:
                raise EngineInputError(
                    f"engine input '{name}' ({MART_NAMES[name]}) is missing column "
                    f"'{missing[0]}'" + (f" (and {', '.join(missing[1:])})" if missing[1:] else "")
                )

    @classmethod
    def from_frames(cls, frames: Mapping[str, FrameLike]) -> EngineInputs:
        """Build inputs from frames keyed by input name or mart name (``dim_reps``).

        Optional marts (leads, opportunities, named accounts, rep state) may be left out;
        they become empty frames. Unknown keys are rejected so a typo cannot silently drop
        a mart.
        """
        by_mart = {mart: name for name, mart in MART_NAMES.items()}
        resolved: dict[str, pl.LazyFrame] = {}
        for key, frame in frames.items():
            name = key if key in FRAME_COLUMNS else by_mart.get(key.rpartition(".")[2])
            if name is None:
                raise EngineInputError(f"unknown engine input '{key}'")
            resolved[name] = frame.lazy()
        for f in fields(cls):
            if f.name == "scope":
                continue
            if f.name not in resolved:
                if f.name not in OPTIONAL_FRAMES:
                    raise EngineInputError(
                        f"engine input '{f.name}' ({MART_NAMES[f.name]}) is missing"
                    )
                resolved[f.name] = empty_frame(f.name)
        return cls(**resolved)

    def normalised(self) -> EngineInputs:
        """The same inputs restricted to the engine's columns, in the engine's dtypes."""
        cast: dict[str, Any] = {name: _cast(name, getattr(self, name)) for name in FRAME_COLUMNS}
        if self.scope is not None:
            cast["scope"] = self.scope.select(
                pl.col(name).cast(dtype) for name, dtype in SCOPE_COLUMNS.items()
            )
        workload_schema = self.workload.collect_schema()
        if "as_of_date" in workload_schema.names():
            cast["workload"] = (
                self.workload.sort("as_of_date", "rep_id", nulls_last=False)
                .unique("rep_id", keep="last", maintain_order=True)
                .pipe(lambda lf: _cast("workload", lf))
            )
        return EngineInputs(**cast)
