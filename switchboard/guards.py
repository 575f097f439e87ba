"""Guards: refuse to publish when the input looks like a broken export rather than real change.

A truncated HR file makes most reps look terminated; an empty territory file makes every
record look unmatched. Either would mass-reassign a book. The guards compare what the
run is about to do with the size of the book and stop it first.

The share guards judge change, not level: the reps that turned invalid since the last
published run (a rep who left last month and still has a book is not news), and the
accounts this run would move. Each also needs a minimum count before it trips, so a
small team losing one rep, or a small book moving two accounts, is a normal week.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine.eligibility import INVALID_AVAILABILITY

if TYPE_CHECKING:
    import duckdb

# Every guard a run can trip; the ones a user may accept for one run (--accept-guard) are
# all but the empty roster and plan, which leave nothing to route with.
GUARD_NAMES = ("empty_export", "max_row_drop", "max_invalid_rep_share", "max_reassign_share")

# How many reps or accounts a stop message names before "… and N more": enough to see
# the pattern (one team, one HR status), short enough for one line.
NAMED = 5

# How bad a rep's availability is for the invalid-rep guard: a held rep (data_problem)
# keeps the book but takes nothing new; an invalid one loses the book. A rep counts when
# it is worse than at the last published run, so held -> not_in_hr (the second export
# without the rep, which moves the book) counts too.
_HELD = ("data_problem",)
_BAD = (*INVALID_AVAILABILITY, *_HELD)


def _severity(availability: pl.Expr) -> pl.Expr:
    """0 keeps a book and takes records (or is on leave), 1 held, 2 invalid."""
    return (
        pl.when(availability.is_in(list(INVALID_AVAILABILITY)))
        .then(2)
        .when(availability.is_in(list(_HELD)))
        .then(1)
        .otherwise(0)
    )


class GuardTripped(RuntimeError):
    """The run would do too much damage to be trusted; nothing is published."""

    def __init__(self, guard: str, message: str) -> None:
        super().__init__(message)
        self.guard = guard
        self.message = message


@dataclass(frozen=True)
class RepHistory:
    """Each rep's availability at the last published run (rep_id, availability), from the
    availability snapshot (marts.snap_rep_availability), and that run's as-of."""

    as_of: datetime
    reps: pl.LazyFrame


def previous_availability(con: duckdb.DuckDBPyConnection, as_of: datetime) -> RepHistory | None:
    """What each rep's availability was at the last published run, or None when there is
    nothing trustworthy to compare with (the guard then judges the level, as on a first
    run).

    The dbt snapshot keeps every rep's availability history stamped with the as-of of the
    run that saw it, stopped runs included; reading it at the as-of of the last
    *published* run ignores what stopped runs saw, so a truncated export trips at every
    run until it is fixed or accepted. The snapshot's timeline is the as-of, so "last" is
    the latest as-of of a published run (the same run as the latest started, unless a
    departure was effective earlier). A run whose as-of is not later than that (a replay,
    a departure effective earlier) has already written its own versions at or before
    that moment, so the snapshot cannot tell the two apart: None.
    """
    from switchboard import warehouse

    if not (
        warehouse.table_exists(con, "routing.runs")
        and warehouse.table_exists(con, "marts.snap_rep_availability")
    ):
        return None
    rows = con.execute("select max(as_of) from routing.runs where status = 'published'").fetchall()
    if not rows or rows[0][0] is None or rows[0][0] >= as_of:
        return None
    published: datetime = rows[0][0]
    reps = warehouse.query(
        con,
        """
        select rep_id, availability
        from marts.snap_rep_availability
        where dbt_valid_from <= ? and (dbt_valid_to is null or dbt_valid_to > ?)
        qualify row_number() over (partition by rep_id order by dbt_valid_from desc) = 1
    """,
        [published, published],
    )
    return RepHistory(as_of=published, reps=reps.lazy())


@dataclass(frozen=True)
class GuardReport:
    carrying_reps_with_book: int
    invalid_reps_with_book: int
    owned_accounts: int
    reassigned_accounts: int
    # Reps with a book whose availability got worse since the last published run (with no
    # history: every invalid or held rep with a book), and the first NAMED of them.
    turned_invalid_reps: int = 0
    turned_invalid_named: tuple[str, ...] = ()
    history_as_of: datetime | None = None  # the last published run compared with
    reassigned_named: tuple[str, ...] = ()  # the first NAMED accounts the run would move
    reassigned_from: tuple[str, ...] = ()  # the reps losing most of them, with counts

    @property
    def invalid_rep_share(self) -> float:
        return self.turned_invalid_reps / max(self.carrying_reps_with_book, 1)

    @property
    def reassign_share(self) -> float:
        return self.reassigned_accounts / max(self.owned_accounts, 1)


def _rep_label(reps_schema: Collection[str]) -> pl.Expr:
    """ "Ann Lee (REP-1)", or the bare rep_id when the frame has no names."""
    if "rep_name" in reps_schema:
        return (
            pl.when(pl.col("rep_name").is_not_null())
            .then(pl.format("{} ({})", "rep_name", "rep_id"))
            .otherwise(pl.col("rep_id"))
        )
    return pl.col("rep_id")


def _rep_books(
    accounts: pl.LazyFrame,
    reps: pl.LazyFrame,
    exempt_rep_ids: Sequence[str],
    previous: RepHistory | None,
) -> pl.DataFrame:
    """One row per rep with a book (leavers named by a departure excepted): label, book,
    availability now, and whether it is bad (invalid or held) and turned worse since the
    last published run (with no history: bad at all)."""
    books = (
        accounts.filter(pl.col("owner_id").is_not_null())
        .group_by("owner_id")
        .agg(pl.len().alias("book"))
        .rename({"owner_id": "rep_id"})
    )
    now = _severity(pl.col("availability"))
    frame = reps.join(books, on="rep_id", how="inner").filter(
        ~pl.col("rep_id").is_in(list(exempt_rep_ids))
    )
    if previous is None:
        turned = now > 0
    else:
        frame = frame.join(
            previous.reps.select("rep_id", _was=pl.col("availability")), on="rep_id", how="left"
        )
        # A rep the last run did not know counts as news when it is bad now.
        turned = (now > 0) & (pl.col("_was").is_null() | (now > _severity(pl.col("_was"))))
    return frame.select(
        label=_rep_label(reps.collect_schema().names()),
        rep_id="rep_id",
        book="book",
        availability="availability",
        bad=pl.col("availability").is_in(list(_BAD)),
        turned=turned,
    ).collect()


def measure(
    *,
    decisions: pl.DataFrame,
    accounts: pl.LazyFrame,
    reps: pl.LazyFrame,
    exempt_rep_ids: Sequence[str] = (),
    previous: RepHistory | None = None,
) -> GuardReport:
    """Count what the guards look at. Reps named in ``exempt_rep_ids`` (a departure's
    leaver) do not count toward the invalid-rep share. ``previous`` is each rep's
    availability at the last published run (previous_availability); None judges the level.
    A held rep (data_problem) keeps the book, but many at once is the same sign of a
    truncated export as many leavers: new records would pile on the rest."""
    rep_books = _rep_books(accounts, reps, exempt_rep_ids, previous)
    turned = rep_books.filter("turned").sort(["book", "rep_id"], descending=[True, False])
    owned = accounts.filter(pl.col("owner_id").is_not_null()).select(pl.len()).collect().item()
    moved = decisions.filter(
        (pl.col("record_type") == "account")
        & pl.col("previous_owner_id").is_not_null()
        & (pl.col("rule") != "manager_review")
        & (pl.col("owner_id").is_null() | (pl.col("owner_id") != pl.col("previous_owner_id")))
        & ~pl.col("previous_owner_id").is_in(list(exempt_rep_ids))
    )
    return GuardReport(
        carrying_reps_with_book=rep_books.height,
        invalid_reps_with_book=int(rep_books["bad"].sum()),
        owned_accounts=int(owned),
        reassigned_accounts=moved.height,
        turned_invalid_reps=turned.height,
        turned_invalid_named=tuple(
            turned.head(NAMED)
            .select(pl.format("{} {}", "label", "availability"))
            .to_series()
            .to_list()
        ),
        history_as_of=previous.as_of if previous is not None else None,
        reassigned_named=_moves_named(moved),
        reassigned_from=_moved_from(moved, reps),
    )


def _moves_named(moved: pl.DataFrame) -> tuple[str, ...]:
    """ "ACC-1 (REP-3 → REP-1)" for the first NAMED moves, by account id."""
    return tuple(
        moved.sort("record_id")
        .head(NAMED)
        .select(
            pl.format(
                "{} ({} → {})",
                "record_id",
                "previous_owner_id",
                pl.coalesce("owner_id", "queue", pl.lit("no owner")),
            )
        )
        .to_series()
        .to_list()
    )


def _moved_from(moved: pl.DataFrame, reps: pl.LazyFrame) -> tuple[str, ...]:
    """ "Ann Lee (REP-3) 30" for the reps losing the most accounts (at most 3)."""
    losers = (
        moved.lazy()
        .group_by(rep_id="previous_owner_id")
        .agg(pl.len().alias("moved"))
        .sort(["moved", "rep_id"], descending=[True, False])
        .head(3)
    )
    names = reps.select(
        "rep_id", *(["rep_name"] if "rep_name" in reps.collect_schema().names() else [])
    ).unique("rep_id")
    return tuple(
        losers.join(names, on="rep_id", how="left", maintain_order="left")
        .select(pl.format("{} {}", _rep_label(names.collect_schema().names()), "moved"))
        .collect()
        .to_series()
        .to_list()
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
        empty = [
            c
            for c in counts
            if c.entity in self.required and c.loaded_rows == 0 and c.entity not in self.exempt
        ]
        if empty and "empty_export" not in self.accepted:
            raise GuardTripped(
                "empty_export",
                "guard empty_export: "
                + "; ".join(
                    f"{c.source_file} has no usable rows "
                    + (
                        "(a header only)"
                        if c.input_rows == 0
                        else f"(all {c.input_rows:,} rows quarantined: see switchboard check)"
                    )
                    for c in empty
                )
                + "; the export looks incomplete, nothing was loaded. Re-export, or "
                + _accept_hint("empty_export"),
            )
        dropped = [
            c
            for c in counts
            if c.entity in self.max_row_drop
            and c.entity not in self.exempt
            and c not in empty  # an accepted empty file has lost every row on purpose
            and c.previous_loaded_rows
            and c.previous_loaded_rows - c.loaded_rows >= self.min_row_drop
            and (c.previous_loaded_rows - c.loaded_rows) / c.previous_loaded_rows
            > self.max_row_drop[c.entity]
        ]
        if dropped and "max_row_drop" not in self.accepted:
            raise GuardTripped(
                "max_row_drop",
                "guard max_row_drop: "
                + "; ".join(
                    f"{c.source_file} loaded {c.loaded_rows:,} rows where the last export "
                    f"loaded {c.previous_loaded_rows:,} "
                    f"(-{1 - c.loaded_rows / (c.previous_loaded_rows or 1):.0%} > "
                    f"{self.max_row_drop[c.entity]:.0%}"
                    + (
                        f", {c.input_rows - c.loaded_rows:,} quarantined)"
                        if c.input_rows > c.loaded_rows
                        else ")"
                    )
                    for c in dropped
                )
                + "; is the export cut? Nothing was loaded. Re-export, or "
                + _accept_hint("max_row_drop"),
            )


def _listed(named: Sequence[str], total: int) -> str:
    """The first few names, then how many more."""
    more = total - len(named)
    return ", ".join(named) + (f", … and {more:,} more" if more > 0 else "")


def check(report: GuardReport, config: RoutingConfig, accepted: Collection[str] = ()) -> None:
    """Raise GuardTripped when a share exceeds its configured limit and its count reaches
    the configured floor (unless the guard is accepted for this run).

    The floors keep a small team's normal week from stopping the hourly run: with 9 reps,
    one leaver is 11%, two are 22%; with 5 owned accounts, one departure can move 40%.
    """
    limits = config.guards
    if (
        report.invalid_rep_share > limits.max_invalid_rep_share
        and report.turned_invalid_reps >= limits.min_invalid_reps
        and "max_invalid_rep_share" not in accepted
    ):
        since = (
            f"turned invalid or held since the last published run "
            f"({report.history_as_of:%Y-%m-%d %H:%M})"
            if report.history_as_of is not None
            else "are invalid or held, with no earlier published run to compare with"
        )
        raise GuardTripped(
            "max_invalid_rep_share",
            f"guard max_invalid_rep_share: {report.turned_invalid_reps} of "
            f"{report.carrying_reps_with_book} reps with a book {since} "
            f"({report.invalid_rep_share:.0%} > {limits.max_invalid_rep_share:.0%}, "
            f"at least {limits.min_invalid_reps}): "
            f"{_listed(report.turned_invalid_named, report.turned_invalid_reps)}; "
            "is the HR export truncated? " + _accept_hint("max_invalid_rep_share"),
        )
    if (
        report.reassign_share > limits.max_reassign_share
        and report.reassigned_accounts >= limits.min_reassignments
        and "max_reassign_share" not in accepted
    ):
        raise GuardTripped(
            "max_reassign_share",
            f"guard max_reassign_share: the run would move {report.reassigned_accounts} of "
            f"{report.owned_accounts} owned accounts "
            f"({report.reassign_share:.0%} > {limits.max_reassign_share:.0%}, "
            f"at least {limits.min_reassignments}): "
            f"{_listed(report.reassigned_named, report.reassigned_accounts)}"
            + (f"; most from {', '.join(report.reassigned_from)}" if report.reassigned_from else "")
            + "; "
            + _accept_hint("max_reassign_share"),
        )
