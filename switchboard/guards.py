"""Guards: refuse to publish when the input looks like a broken export rather than real change.

A truncated HR file makes most reps look terminated; an empty territory file makes every
record look unmatched. Either would mass-reassign a book. The guards compare what the
run is about to do with the size of the book and stop it first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine.eligibility import INVALID_AVAILABILITY

# Every guard a run can trip; the ones a user may accept for one run (--accept-guard) are
# all but the empty roster and plan, which leave nothing to route with.
GUARD_NAMES = (
    "empty_export",
    "max_row_drop",
    "max_invalid_rep_share",
    "max_reassign_share",
)


class GuardTripped(RuntimeError):
    """The run would do too much damage to be trusted; nothing is published."""

    def __init__(self, guard: str, message: str) -> None:
        super().__init__(message)
        self.guard = guard
        self.message = message


@dataclass(frozen=True)
class GuardReport:
    carrying_reps_with_book: int
    invalid_reps_with_book: int
    owned_accounts: int
    reassigned_accounts: int

    @property
    def invalid_rep_share(self) -> float:
        return self.invalid_reps_with_book / max(self.carrying_reps_with_book, 1)

    @property
    def reassign_share(self) -> float:
        return self.reassigned_accounts / max(self.owned_accounts, 1)


def measure(
    *,
    decisions: pl.DataFrame,
    accounts: pl.LazyFrame,
    reps: pl.LazyFrame,
    exempt_rep_ids: Sequence[str] = (),
) -> GuardReport:
    """Count what the guards look at. Reps named in ``exempt_rep_ids`` (a departure's
    leaver) do not count toward the invalid-rep share."""
    books = (
        accounts.filter(pl.col("owner_id").is_not_null())
        .group_by("owner_id")
        .agg(pl.len().alias("book"))
        .rename({"owner_id": "rep_id"})
    )
    rep_books = (
        reps.join(books, on="rep_id", how="inner")
        .filter(~pl.col("rep_id").is_in(list(exempt_rep_ids)))
        .select(
            with_book=pl.len(),
            # A held rep (data_problem) keeps the book, but many at once is the same sign
            # of a truncated export as many leavers: new records would pile on the rest.
            invalid=pl.col("availability").is_in([*INVALID_AVAILABILITY, "data_problem"]).sum(),
        )
        .collect()
    )
    owned = accounts.filter(pl.col("owner_id").is_not_null()).select(pl.len()).collect().item()
    moved = decisions.filter(
        (pl.col("record_type") == "account")
        & pl.col("previous_owner_id").is_not_null()
        & (pl.col("rule") != "manager_review")
        & (pl.col("owner_id").is_null() | (pl.col("owner_id") != pl.col("previous_owner_id")))
        & ~pl.col("previous_owner_id").is_in(list(exempt_rep_ids))
    ).height
    return GuardReport(
        carrying_reps_with_book=int(rep_books["with_book"].item()),
        invalid_reps_with_book=int(rep_books["invalid"].item() or 0),
        owned_accounts=int(owned),
        reassigned_accounts=moved,
    )


def check_inputs(*, rep_count: int, carrying_rep_count: int, territory_count: int) -> None:
    """Stop before any routing when the plan or the roster is empty."""
    if rep_count == 0:
        raise GuardTripped("empty_reps", "guard empty_reps: the reps file has no usable rows")
    if carrying_rep_count == 0:
        raise GuardTripped(
            "no_available_reps",
            "guard no_available_reps: no rep is available to carry accounts "
            "(check the HR export and carrying_roles)",
        )
    if territory_count == 0:
        raise GuardTripped(
            "empty_territories", "guard empty_territories: the territories file has no usable rows"
        )


@dataclass(frozen=True)
class ExportCount:
    """One entity's file as ingest found it, and what the last loaded export held."""

    entity: str
    source_file: str
    input_rows: int
    loaded_rows: int
    previous_loaded_rows: int | None  # None: no earlier export was loaded


def _accept_hint(guard: str) -> str:
    return f"if this is right, accept it for one run with --accept-guard {guard}"


@dataclass(frozen=True)
class ExportGuard:
    """Guards on the files themselves, checked by ingest before anything is written.

    A header-only or cut export must never reach routing: with no accounts every lead
    would be placed without its account's owner, and with half the reps half the books
    would look ownerless. ``exempt`` entities are the ones a run replaces on purpose (a
    territory change's new plan); ``accepted`` guards were accepted for this run.
    """

    max_row_drop: Mapping[str, float]
    min_row_drop: int
    required: tuple[str, ...]
    accepted: frozenset[str] = frozenset()
    exempt: frozenset[str] = frozenset()

    def check(self, counts: Sequence[ExportCount]) -> None:
        """Raise GuardTripped (empty_export, then max_row_drop) naming every entity."""
        empty = [c for c in counts if c.entity in self.required and c.loaded_rows == 0
                 and c.entity not in self.exempt]
        if empty and "empty_export" not in self.accepted:
            raise GuardTripped("empty_export", "guard empty_export: " + "; ".join(
                f"{c.source_file} has no usable rows "
                + ("(a header only)" if c.input_rows == 0
                   else f"(all {c.input_rows:,} rows quarantined: see switchboard check)")
                for c in empty
            ) + "; the export looks incomplete, nothing was loaded. Re-export, or "
              + _accept_hint("empty_export"))
        dropped = [
            c for c in counts
            if c.entity in self.max_row_drop and c.entity not in self.exempt
            and c not in empty  # an accepted empty file has lost every row on purpose
            and c.previous_loaded_rows
            and c.previous_loaded_rows - c.loaded_rows >= self.min_row_drop
            and (c.previous_loaded_rows - c.loaded_rows) / c.previous_loaded_rows
            > self.max_row_drop[c.entity]
        ]
        if dropped and "max_row_drop" not in self.accepted:
            raise GuardTripped("max_row_drop", "guard max_row_drop: " + "; ".join(
                f"{c.source_file} loaded {c.loaded_rows:,} rows where the last export "
                f"loaded {c.previous_loaded_rows:,} "
                f"(-{1 - c.loaded_rows / (c.previous_loaded_rows or 1):.0%} > "
                f"{self.max_row_drop[c.entity]:.0%}"
                + (f", {c.input_rows - c.loaded_rows:,} quarantined)"
                   if c.input_rows > c.loaded_rows else ")")
                for c in dropped
            ) + "; is the export cut? Nothing was loaded. Re-export, or "
              + _accept_hint("max_row_drop"))


def check(report: GuardReport, config: RoutingConfig, accepted: Collection[str] = ()) -> None:
    """Raise GuardTripped when a share exceeds its configured limit (unless accepted)."""
    limits = config.guards
    if (report.invalid_rep_share > limits.max_invalid_rep_share
            and "max_invalid_rep_share" not in accepted):
        raise GuardTripped(
            "max_invalid_rep_share",
            f"guard max_invalid_rep_share: {report.invalid_reps_with_book} of "
            f"{report.carrying_reps_with_book} reps with a book are invalid or held "
            f"({report.invalid_rep_share:.0%} > {limits.max_invalid_rep_share:.0%}); "
            "is the HR export truncated? " + _accept_hint("max_invalid_rep_share"),
        )
    if report.reassign_share > limits.max_reassign_share and "max_reassign_share" not in accepted:
        raise GuardTripped(
            "max_reassign_share",
            f"guard max_reassign_share: the run would move {report.reassigned_accounts} of "
            f"{report.owned_accounts} owned accounts "
            f"({report.reassign_share:.0%} > {limits.max_reassign_share:.0%}); "
            + _accept_hint("max_reassign_share"),
        )
