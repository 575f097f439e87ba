"""The comparison itself: which records move between the two sides, and per rep and per
territory the records in and out and the workload before and after (`compare`).

Pure Polars.
"""

from __future__ import annotations

import polars as pl
import polars.selectors as cs

from switchboard.diff.model import (
    _EPSILON,
    _PLACES,
    KEPT,
    KEYS,
    MOVES_SCHEMA,
    NAMES_SCHEMA,
    PER_REP_SCHEMA,
    PER_TERRITORY_SCHEMA,
    WAITING_SCHEMA,
    PlanDiff,
    Side,
)


def _side_outcomes(side: Side, prefix: str) -> pl.DataFrame:
    return side.decisions.select(
        *KEYS,
        *(
            pl.col(column).alias(f"{prefix}_{column}")
            for column in (
                "owner_id",
                "queue",
                "rule",
                "territory_id",
                "rationale",
                "previous_owner_id",
            )
        ),
    )


def _place(decided: pl.Expr, prefix: str) -> list[pl.Expr]:
    """A side's owner, queue, rule and territory: its decision, or where the record stays
    when it does not decide it (the owner it has, else the queue it waits in)."""
    has_owner = pl.col("_previous").is_not_null()
    return [
        pl.when(decided)
        .then(pl.col(f"{prefix}_owner_id"))
        .otherwise(pl.col("_previous"))
        .alias(f"{prefix}_owner_id"),
        pl.when(decided)
        .then(pl.col(f"{prefix}_queue"))
        .when(~has_owner)
        .then(pl.col("_waiting_queue"))
        .alias(f"{prefix}_queue"),
        pl.when(decided)
        .then(pl.col(f"{prefix}_rule"))
        .when(~has_owner)
        .then(pl.coalesce("_waiting_rule", pl.lit(KEPT)))
        .otherwise(pl.lit(KEPT))
        .alias(f"{prefix}_rule"),
        pl.when(decided)
        .then(pl.col(f"{prefix}_territory_id"))
        .when(~has_owner)
        .then(pl.col("_waiting_territory"))
        .alias(f"{prefix}_territory_id"),
    ]


def moved_records(before: Side, after: Side, waiting: pl.DataFrame) -> pl.DataFrame:
    """Every record either side decides, with both places; ``moved`` when the owner or the
    queue differs. ``waiting``: WAITING_SCHEMA."""
    decided_before = pl.col("from_rule").is_not_null()
    decided_after = pl.col("to_rule").is_not_null()
    waits = waiting.select(
        *KEYS, _waiting_queue="queue", _waiting_rule="rule", _waiting_territory="territory_id"
    )
    return (
        _side_outcomes(before, "from")
        .join(_side_outcomes(after, "to"), on=KEYS, how="full", coalesce=True)
        .join(waits, on=KEYS, how="left")
        .with_columns(
            _previous=pl.coalesce("from_previous_owner_id", "to_previous_owner_id"),
            _after_decides=decided_after,
        )
        .with_columns(*_place(decided_before, "from"), *_place(decided_after, "to"))
        .with_columns(
            moved=pl.col("from_owner_id").ne_missing(pl.col("to_owner_id"))
            | pl.col("from_queue").ne_missing(pl.col("to_queue")),
            rationale=pl.when("_after_decides")
            .then(pl.col("to_rationale"))
            .otherwise(
                pl.format(
                    "not decided again under the new config: stays with {}",
                    pl.coalesce("to_owner_id", "to_queue", pl.lit("no one")),
                )
            ),
        )
        .drop(
            cs.starts_with("_"),
            "from_rationale",
            "to_rationale",
            "from_previous_owner_id",
            "to_previous_owner_id",
        )
    )


def _named(moves: pl.DataFrame, before: Side, after: Side, names: pl.DataFrame) -> pl.DataFrame:
    def rep_names(side: Side, prefix: str) -> pl.DataFrame:
        return side.reps.select(
            pl.col("rep_id").alias(f"{prefix}_owner_id"),
            pl.col("rep_name").alias(f"{prefix}_owner_name"),
        )

    def territory_names(side: Side, prefix: str) -> pl.DataFrame:
        return side.territories.select(
            pl.col("territory_id").alias(f"{prefix}_territory_id"),
            pl.col("territory_name").alias(f"{prefix}_territory_name"),
        ).unique(f"{prefix}_territory_id", keep="first")

    return (
        moves.join(names.unique(KEYS, keep="first"), on=KEYS, how="left")
        .join(
            rep_names(before, "from").unique("from_owner_id", keep="first"),
            on="from_owner_id",
            how="left",
        )
        .join(
            rep_names(after, "to").unique("to_owner_id", keep="first"), on="to_owner_id", how="left"
        )
        .join(territory_names(before, "from"), on="from_territory_id", how="left")
        .join(territory_names(after, "to"), on="to_territory_id", how="left")
        .select(MOVES_SCHEMA.keys())
        .cast(MOVES_SCHEMA)  # type: ignore[arg-type]
        .sort(KEYS)
    )


def workload(side: Side) -> pl.DataFrame:
    """rep_id, workload: each rep's workload index with the side's decisions applied
    (a record gained adds its delta, a record lost takes it away)."""
    changed = side.decisions.filter(pl.col("owner_id").ne_missing(pl.col("previous_owner_id")))
    gained = changed.filter(pl.col("owner_id").is_not_null()).select(
        "record_type", rep_id="owner_id", sign=pl.lit(1.0)
    )
    lost = changed.filter(pl.col("previous_owner_id").is_not_null()).select(
        "record_type", rep_id="previous_owner_id", sign=pl.lit(-1.0)
    )
    deltas = side.reps.select("rep_id", "delta_account", "delta_lead").unique("rep_id")
    change = (
        pl.concat([gained, lost])
        .join(deltas, on="rep_id", how="inner")
        .group_by("rep_id")
        .agg(
            change=(
                pl.col("sign")
                * pl.when(pl.col("record_type") == "lead")
                .then(pl.col("delta_lead"))
                .otherwise(pl.col("delta_account"))
            ).sum()
        )
    )
    return (
        side.reps.select("rep_id", "workload_index")
        .unique("rep_id", keep="first")
        .join(change, on="rep_id", how="left")
        .select(
            "rep_id",
            workload=pl.col("workload_index").fill_null(0.0) + pl.col("change").fill_null(0.0),
        )
    )


def fairness(side: Side, load: pl.DataFrame) -> pl.DataFrame:
    """Per territory of the side's plan: its available members, their mean workload and the
    largest deviation of a member's workload from that mean."""
    available = side.reps.filter(pl.col("is_available")).select("rep_id")
    members = (
        side.members.select("territory_id", "rep_id")
        .unique()
        .join(available, on="rep_id", how="semi")
        .join(load, on="rep_id", how="left")
        .with_columns(pl.col("workload").fill_null(0.0))
        .with_columns(mean=pl.col("workload").mean().over("territory_id"))
        .group_by("territory_id")
        .agg(
            members=pl.len().cast(pl.Int64),
            mean_workload=pl.col("mean").first(),
            max_deviation=(pl.col("workload") - pl.col("mean")).abs().max(),
        )
    )
    return (
        side.territories.select("territory_id")
        .unique()
        .join(members, on="territory_id", how="left")
        .with_columns(pl.col("members").fill_null(0))
    )


def _counts(moves: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
    return (
        moves.filter(pl.col(key).is_not_null())
        .group_by(pl.col(key).alias("id"))
        .agg(pl.len().cast(pl.Int64).alias(name))
    )


def _differs(before: str, after: str) -> pl.Expr:
    return (pl.col(before).fill_null(0.0) - pl.col(after).fill_null(0.0)).abs() >= _EPSILON


def per_rep(moves: pl.DataFrame, before: Side, after: Side) -> pl.DataFrame:
    """Reps who gain or lose records, or whose workload changes."""
    roster = pl.concat(
        [
            after.reps.select("rep_id", "rep_name", "team"),
            before.reps.select("rep_id", "rep_name", "team"),
        ]
    ).unique("rep_id", keep="first")
    return (
        roster.join(
            workload(before).rename({"workload": "workload_before"}), on="rep_id", how="left"
        )
        .join(workload(after).rename({"workload": "workload_after"}), on="rep_id", how="left")
        .join(
            _counts(moves, "to_owner_id", "records_in"), left_on="rep_id", right_on="id", how="left"
        )
        .join(
            _counts(moves, "from_owner_id", "records_out"),
            left_on="rep_id",
            right_on="id",
            how="left",
        )
        .with_columns(
            pl.col("records_in", "records_out").fill_null(0),
            pl.col("workload_before", "workload_after").fill_null(0.0),
        )
        .with_columns(workload_change=pl.col("workload_after") - pl.col("workload_before"))
        .filter(
            (pl.col("records_in") > 0)
            | (pl.col("records_out") > 0)
            | _differs("workload_before", "workload_after")
        )
        .with_columns(pl.col("workload_before", "workload_after", "workload_change").round(_PLACES))
        .sort(
            [
                pl.col("records_in") + pl.col("records_out"),
                pl.col("workload_change").abs(),
                "rep_id",
            ],
            descending=[True, True, False],
        )
        .select(PER_REP_SCHEMA.keys())
        .cast(PER_REP_SCHEMA)  # type: ignore[arg-type]
    )


def per_territory(moves: pl.DataFrame, before: Side, after: Side) -> pl.DataFrame:
    """Territories of either plan that gain or lose records, move records between their
    members, or whose members or workload change."""
    elsewhere = pl.col("from_territory_id").ne_missing(pl.col("to_territory_id"))
    within = moves.filter(~elsewhere & pl.col("to_territory_id").is_not_null())
    fair_before = fairness(before, workload(before))
    fair_after = fairness(after, workload(after))
    names = pl.concat(
        [
            after.territories.select("territory_id", "territory_name"),
            before.territories.select("territory_id", "territory_name"),
        ]
    ).unique("territory_id", keep="first")
    return (
        names.join(
            _counts(moves.filter(elsewhere), "to_territory_id", "records_in"),
            left_on="territory_id",
            right_on="id",
            how="left",
        )
        .join(
            _counts(moves.filter(elsewhere), "from_territory_id", "records_out"),
            left_on="territory_id",
            right_on="id",
            how="left",
        )
        .join(
            _counts(within, "to_territory_id", "moved_within"),
            left_on="territory_id",
            right_on="id",
            how="left",
        )
        .join(
            fair_before.select(
                "territory_id",
                members_before="members",
                mean_workload_before="mean_workload",
                max_deviation_before="max_deviation",
            ),
            on="territory_id",
            how="left",
        )
        .join(
            fair_after.select(
                "territory_id",
                members_after="members",
                mean_workload_after="mean_workload",
                max_deviation_after="max_deviation",
            ),
            on="territory_id",
            how="left",
        )
        .with_columns(
            pl.col(
                "records_in", "records_out", "moved_within", "members_before", "members_after"
            ).fill_null(0)
        )
        .filter(
            (pl.col("records_in") + pl.col("records_out") + pl.col("moved_within") > 0)
            | (pl.col("members_before") != pl.col("members_after"))
            | _differs("mean_workload_before", "mean_workload_after")
            | _differs("max_deviation_before", "max_deviation_after")
        )
        .with_columns(
            pl.col(
                "mean_workload_before",
                "mean_workload_after",
                "max_deviation_before",
                "max_deviation_after",
            ).round(_PLACES)
        )
        .sort(
            [pl.col("records_in") + pl.col("records_out") + pl.col("moved_within"), "territory_id"],
            descending=[True, False],
        )
        .select(PER_TERRITORY_SCHEMA.keys())
        .cast(PER_TERRITORY_SCHEMA)  # type: ignore[arg-type]
    )


def newly_overflowing(before: pl.DataFrame, after: pl.DataFrame) -> list[str]:
    """Reps overflowing in ``after`` that were not in ``before`` (rep_state frames)."""
    was = before.filter(pl.col("is_overflowing").fill_null(False)).select("rep_id")
    return (
        after.filter(pl.col("is_overflowing").fill_null(False))
        .join(was, on="rep_id", how="anti")
        .get_column("rep_id")
        .unique()
        .sort()
        .to_list()
    )


def compare(
    before: Side,
    after: Side,
    waiting: pl.DataFrame | None = None,
    names: pl.DataFrame | None = None,
) -> PlanDiff:
    """The new side's outcome against the current one's. ``waiting`` (WAITING_SCHEMA): where
    records sitting in a queue wait, for a side that does not decide them again;
    ``names`` (NAMES_SCHEMA): what each record is called."""
    records = moved_records(
        before, after, waiting if waiting is not None else pl.DataFrame(schema=WAITING_SCHEMA)
    )
    moves = _named(
        records.filter("moved").drop("moved"),
        before,
        after,
        names if names is not None else pl.DataFrame(schema=NAMES_SCHEMA),
    )
    return PlanDiff(
        moves=moves,
        per_territory=per_territory(moves, before, after),
        per_rep=per_rep(moves, before, after),
        decided=records.height,
        conflicts_before=before.conflicts.height,
        conflicts_after=after.conflicts.height,
        overflow_before=before.overflow,
        overflow_after=after.overflow,
        newly_overflowing=newly_overflowing(before.rep_state, after.rep_state),
    )
