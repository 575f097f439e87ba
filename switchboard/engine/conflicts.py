"""Conflicts: real ambiguities, logged whatever rule won (docs/ARCHITECTURE.md, "Conflicts").

One row per (record, conflict_type):

* ``multi_territory``: the record matched two or more territories whose start-of-run
  picks differ (the lightest eligible member of each, or its overflow queue when it has
  none). A lead's matches through its account count. Candidates: one per territory.
* ``named_subsidiary``: the record's account is not named itself but its parent or
  ultimate parent is, and the account owner or the territory's owner pick is someone
  else than the named owner.
* ``pipeline_owner_mismatch``: an open opportunity on the record's account is owned
  (available or not) by someone else than the account owner or the territory's owner
  pick.

"Territory pick" is the owner the territory rule gave the record, or for a record that
another rule decided, the owner the winning territory would have picked at the start of
the run. Only owner picks are compared: an overflow queue is not an owner to disagree
with. The resolution, owner and queue of a conflict are those of the decision.
"""

from __future__ import annotations

import polars as pl

from switchboard.engine.schema import CONFLICTS

_NULL = pl.lit(None, pl.String())
# The conflicts table plus the record's position in the run (dropped by the router).
_SCHEMA: dict[str, pl.DataType] = {"seq": pl.UInt32()}
_SCHEMA.update(CONFLICTS)


def _candidate(rule: str, territory_id: pl.Expr, owner_id: pl.Expr, queue: pl.Expr) -> pl.Expr:
    return pl.struct(rule=pl.lit(rule), territory_id=territory_id, owner_id=owner_id, queue=queue)


def _candidate_rows(
    frame: pl.LazyFrame, conflict_type: str, *, first: str | None = None
) -> pl.LazyFrame:
    """Long-form candidates (one row each) of the records in ``frame`` for one conflict.

    ``first`` is the rule listed first: ``named_parent`` (the named owner) or
    ``open_opportunity`` (one row per distinct owner of open pipeline, best first).
    Then the account owner and the territory pick, when the record has them. Lists are
    assembled by a group_by, which is far cheaper than concatenating struct lists.
    """
    columns = ["seq", "order", "rule", "territory_id", "owner_id", "queue"]
    head: pl.LazyFrame
    if first == "named_parent":
        head = frame.select(
            "seq",
            order=pl.lit(0),
            rule=pl.lit("named_parent"),
            territory_id=_NULL,
            owner_id="named_parent_owner_id",
            queue=_NULL,
        )
    else:
        head = (
            frame.select("seq", "pipeline_candidates")
            .explode("pipeline_candidates")
            .unnest("pipeline_candidates")
            .with_columns(order=pl.lit(0))
        )
    owner = frame.filter(pl.col("account_owner_id").is_not_null()).select(
        "seq",
        order=pl.lit(1),
        rule=pl.lit("account_owner"),
        territory_id=_NULL,
        owner_id="account_owner_id",
        queue=_NULL,
    )
    pick = frame.filter(pl.col("win_territory_id").is_not_null()).select(
        "seq",
        order=pl.lit(2),
        rule=pl.lit("territory"),
        territory_id="win_territory_id",
        owner_id="pick_owner_id",
        queue=pl.when(pl.col("pick_owner_id").is_null()).then(pl.col("win_territory_queue")),
    )
    return (
        pl.concat([head.select(columns), owner.select(columns), pick.select(columns)])
        .sort("seq", "order", maintain_order=True)
        .group_by("seq", maintain_order=True)
        .agg(candidates=pl.struct("rule", "territory_id", "owner_id", "queue"))
        .with_columns(conflict_type=pl.lit(conflict_type))
    )


def _record_word(capital: bool) -> pl.Expr:
    lead, account = ("Lead", "Account") if capital else ("lead", "account")
    return pl.when(pl.col("record_type") == "lead").then(pl.lit(lead)).otherwise(pl.lit(account))


def with_names(frame: pl.LazyFrame, names: pl.LazyFrame, columns: dict[str, str]) -> pl.LazyFrame:
    """Join rep names for id columns (``{"owner_id": "owner_name"}``); the id stands in
    for a rep missing from dim_reps."""
    for id_column, name_column in columns.items():
        frame = frame.join(
            names.select(pl.col("rep_id").alias(id_column), pl.col("rep_name").alias(name_column)),
            on=id_column,
            how="left",
            maintain_order="left",
        ).with_columns(pl.coalesce(name_column, id_column).alias(name_column))
    return frame


def territory_descriptions(
    matched: pl.DataFrame, decided: pl.LazyFrame, names: pl.LazyFrame, territories: pl.DataFrame
) -> pl.DataFrame:
    """Per contested record (``seq``): candidate structs and readable text of its territories.

    ``match_text``: "NA-West Enterprise by address and NA-East Enterprise by account"
    (the source is named for leads only; an account matches on its own attributes).
    Territories are listed in tiebreak order, the winner first.
    """
    contested = decided.filter(pl.col("contested")).select("seq")
    label = pl.concat_str(
        [
            pl.col("territory_name"),
            pl.when(pl.col("record_type") == "lead").then(
                pl.when(pl.col("match_source") == "account")
                .then(pl.lit(" by account"))
                .otherwise(pl.lit(" by address"))
            ),
        ],
        ignore_nulls=True,
    )
    return (
        matched.lazy()
        .join(contested, on="seq", how="semi")
        .join(
            territories.lazy().select("territory_rank", "territory_id", "territory_name", "queue"),
            on="territory_rank",
            how="left",
        )
        .pipe(with_names, names, {"pick_owner_id": "pick_owner_name"})
        .sort("seq", "tiebreak")
        .group_by("seq", maintain_order=True)
        .agg(
            territory_candidates=_candidate(
                "territory",
                pl.col("territory_id"),
                pl.col("pick_owner_id"),
                pl.when(pl.col("pick_owner_id").is_null()).then(pl.col("queue")),
            ),
            match_text=label,
            pick_text=pl.format("{} ({})", label, pl.coalesce("pick_owner_name", "queue")),
        )
        .with_columns(
            match_text=pl.col("match_text").list.join(" and "),
            pick_text=pl.col("pick_text").list.join(", "),
        )
        .collect(engine="in-memory")
    )


def build_conflicts(
    decided: pl.LazyFrame, descriptions: pl.DataFrame, names: pl.LazyFrame, run_id: str
) -> pl.DataFrame:
    """The conflicts table (schema.CONFLICTS plus the record's ``seq``) of decided records.

    ``decided`` carries the decision (rule, owner_id, queue) and the facts the conflicts
    compare (account owner, territory pick, named parent, pipeline owners). Each conflict
    type filters its records first; names are joined on those few rows only.
    """
    account_owner = pl.col("account_owner_id")
    pick = pl.col("pick_owner_id")
    named_owner = pl.col("named_parent_owner_id")
    pipeline_min = pl.col("pipeline_owner_min")
    several = pl.col("pipeline_owner_count") >= 2

    outcome = ["seq", "record_type", "record_id", "rule", "owner_id", "queue", "owner_name"]
    multi = decided.join(descriptions.lazy(), on="seq", how="inner").select(
        *outcome,
        conflict_type=pl.lit("multi_territory"),
        candidates="territory_candidates",
        rationale=pl.format(
            "{} matched {} territories that would pick different owners: {}; ",
            _record_word(capital=True),
            "matched_count",
            "pick_text",
        ),
    )

    owner_elsewhere = account_owner.is_not_null() & (account_owner != named_owner)
    pick_elsewhere = pick.is_not_null() & (pick != named_owner)
    subsidiaries = decided.filter(
        ~pl.col("is_named_self").fill_null(False)
        & named_owner.is_not_null()
        & (owner_elsewhere | pick_elsewhere)
    )
    subsidiary = subsidiaries.pipe(
        with_names,
        names,
        {
            "named_parent_owner_id": "named_parent_owner_name",
            "account_owner_id": "account_owner_name",
            "pick_owner_id": "pick_owner_name",
        },
    ).select(
        *outcome,
        conflict_type=pl.lit("named_subsidiary"),
        rationale=pl.format(
            "Parent account {} is named to {}, but {}; ",
            pl.coalesce("named_parent_account_name", "named_parent_account_id"),
            "named_parent_owner_name",
            pl.concat_str(
                [
                    pl.when(owner_elsewhere).then(
                        pl.format("the account owner is {}", "account_owner_name")
                    ),
                    pl.when(pick_elsewhere).then(
                        pl.format("territory {} picks {}", "win_territory_name", "pick_owner_name")
                    ),
                ],
                separator=" and ",
                ignore_nulls=True,
            ),
        ),
    )

    differs_from_owner = account_owner.is_not_null() & (several | (pipeline_min != account_owner))
    differs_from_pick = pick.is_not_null() & (several | (pipeline_min != pick))
    mismatched = decided.filter(
        (pl.col("pipeline_owner_count").fill_null(0) > 0) & (differs_from_owner | differs_from_pick)
    )
    pipeline = mismatched.pipe(
        with_names,
        names,
        {
            "pipeline_owner_id": "pipeline_owner_name",
            "account_owner_id": "account_owner_name",
            "pick_owner_id": "pick_owner_name",
        },
    ).select(
        *outcome,
        conflict_type=pl.lit("pipeline_owner_mismatch"),
        rationale=pl.concat_str(
            [
                pl.format(
                    "Open opportunity {} is owned by {}", "pipeline_opp_id", "pipeline_owner_name"
                ),
                pl.when(several).then(
                    pl.format(" (and {} other owners)", pl.col("pipeline_owner_count") - 1)
                ),
                pl.lit(", unlike "),
                pl.concat_str(
                    [
                        pl.when(differs_from_owner).then(
                            pl.format("the account owner {}", "account_owner_name")
                        ),
                        pl.when(differs_from_pick).then(
                            pl.format(
                                "territory {}'s pick {}", "win_territory_name", "pick_owner_name"
                            )
                        ),
                    ],
                    separator=" and ",
                    ignore_nulls=True,
                ),
                pl.lit("; "),
            ],
            ignore_nulls=True,
        ),
    )

    candidates = pl.concat(
        [
            multi.select("seq", "conflict_type", "candidates"),
            _candidate_rows(subsidiaries, "named_subsidiary", first="named_parent"),
            _candidate_rows(mismatched, "pipeline_owner_mismatch", first="open_opportunity"),
        ],
        how="diagonal",
    )
    return (
        pl.concat([multi.drop("candidates"), subsidiary, pipeline])
        .join(candidates, on=["seq", "conflict_type"], how="left")
        .sort("seq", "conflict_type")
        .select(
            "seq",
            run_id=pl.lit(run_id),
            record_type="record_type",
            record_id="record_id",
            conflict_type="conflict_type",
            candidates="candidates",
            resolution="rule",
            owner_id="owner_id",
            queue="queue",
            rationale=pl.concat_str(
                [
                    pl.col("rationale"),
                    pl.format("resolved by {} to {}.", "rule", pl.coalesce("owner_name", "queue")),
                ]
            ),
        )
        .cast(_SCHEMA)  # type: ignore[arg-type]
        .collect(engine="in-memory")
    )
