"""routing.yml `alerts:`, `guards:` and `evidence:`: when alerts are raised, the limits
that hold a run back, and how many exports it takes to call a rep gone."""

from __future__ import annotations

from pydantic import Field, field_validator

from switchboard.config.base import _Strict, did_you_mean


class Alerts(_Strict):
    unowned_hours: float = 24
    overload_days: int = 21
    # A webhook message still undelivered after this long raises delivery_failed, which goes
    # to the files sink: the webhook is the sink that is failing.
    pending_hours: float = Field(4, gt=0)
    # Who receives alerts that have no natural owner (rule gaps, guards, orphaned records).
    revops_recipient: str = "revops"


ROW_DROP_ENTITIES = ("accounts", "reps", "hr", "territories", "territory_members")


class Guards(_Strict):
    # The share of reps with a book that may turn invalid or held since the last published
    # run, and the fewest such reps that trip it (a team of 9 may lose two reps in a week).
    max_invalid_rep_share: float = Field(0.2, ge=0, le=1)
    min_invalid_reps: int = Field(3, ge=1)
    # The share of owned accounts one run may move, and the fewest moved accounts that trip
    # it: below 10 a move is one small book, quickly checked; with a 30% share the floor
    # changes nothing from 30 owned accounts up.
    max_reassign_share: float = Field(0.3, ge=0, le=1)
    min_reassignments: int = Field(10, ge=1)
    # Per entity, the largest share of rows an export may lose against the last loaded
    # export, and the fewest lost rows that trip it (a team of 9 may lose one rep row).
    max_row_drop: dict[str, float] = Field(
        default_factory=lambda: dict.fromkeys(ROW_DROP_ENTITIES, 0.1)
    )
    min_row_drop: int = Field(3, ge=1)

    @field_validator("max_row_drop")
    @classmethod
    def _shares(cls, limits: dict[str, float]) -> dict[str, float]:
        # A misspelt entity would silently guard nothing: name it, with the likely one.
        unknown = [entity for entity in limits if entity not in ROW_DROP_ENTITIES]
        if unknown:
            raise ValueError(
                "; ".join(
                    f"no entity `{entity}`{did_you_mean(entity, ROW_DROP_ENTITIES)}"
                    for entity in unknown
                )
                + f" (the entities are {', '.join(ROW_DROP_ENTITIES)})"
            )
        bad = {entity: share for entity, share in limits.items() if not 0 <= share <= 1}
        if bad:
            raise ValueError(f"shares must be between 0 and 1: {bad}")
        return limits


class Evidence(_Strict):
    # A rep missing from the HR (or reps) export this many consecutive exports has left;
    # fewer, and the rep keeps the book and receives nothing new (a rep_data_problem alert).
    missing_exports: int = Field(2, ge=1)
