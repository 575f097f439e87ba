"""Territory matches of the records being decided, and the winning territory of each.

Candidate territories come from fct_territory_matches: an account's own matches
(``match_source = 'record'``); a lead's own matches and its matched account's
(``'account'``). Several matches are resolved by ``routing.yml`` ``territory_tiebreak``:
``opportunity_territory`` (prefer a territory one of whose members owns an open
opportunity on the record's account), ``priority`` (lower wins), ``specificity`` (more
criteria wins), ``territory_id``; territory_id always closes the order.

Only ``opportunity_territory`` depends on the record; the other keys are properties of
the territory. So the keys before and after it are ranked once on the small territory
table, and each match gets one integer sort key: picking the winner is a ``min`` per
record instead of a sort of every match.
"""

from __future__ import annotations

import polars as pl

from switchboard.config import RoutingConfig

_TERRITORY_KEYS: dict[str, tuple[str, bool]] = {
    "priority": ("priority", False),
    "specificity": ("specificity", True),
    "territory_id": ("territory_id", False),
}


def format_queue(template: str, territory_id: pl.Expr) -> pl.Expr:
    """``routing.yml`` queue templates (``"overflow:{territory_id}"``) as an expression."""
    parts = template.split("{territory_id}")
    pieces: list[pl.Expr] = [pl.lit(parts[0])]
    for part in parts[1:]:
        pieces += [territory_id, pl.lit(part)]
    return pl.concat_str(pieces)


def _rank(table: pl.DataFrame, keys: list[str], name: str) -> pl.DataFrame:
    """Dense rank of territories by tiebreak keys (equal keys share a rank)."""
    if not keys:
        return table.with_columns(pl.lit(0, pl.Int64).alias(name))
    columns = [_TERRITORY_KEYS[k][0] for k in keys]
    descending = [_TERRITORY_KEYS[k][1] for k in keys]
    return table.sort(columns, descending=descending, nulls_last=True).with_columns(
        pl.struct(columns).rle_id().cast(pl.Int64).alias(name)
    )


def territory_table(matches: pl.LazyFrame, config: RoutingConfig) -> pl.DataFrame:
    """One row per matched territory: name, queue, processing rank and tiebreak ranks.

    ``territory_rank`` (priority, territory_id) is the order in which territories draw on
    reps they share (see capacity/). ``prefix_rank``/``suffix_rank`` rank the
    tiebreak keys before/after ``opportunity_territory``.
    """
    table = (
        matches.group_by("territory_id")
        .agg(
            pl.col("territory_name").min(),
            pl.col("priority").min(),
            pl.col("specificity").max(),
            pl.col("overflow_queue").min(),
        )
        .with_columns(
            territory_name=pl.coalesce("territory_name", "territory_id"),
            queue=pl.coalesce(
                "overflow_queue", format_queue(config.queues.overflow, pl.col("territory_id"))
            ),
        )
        .sort("priority", "territory_id", nulls_last=True)
        .with_row_index("territory_rank")
        .with_columns(pl.col("territory_rank").cast(pl.Int64))
        .collect(engine="in-memory")
    )
    keys: list[str] = list(config.territory_tiebreak)
    if "territory_id" not in keys:
        keys.append("territory_id")
    split = keys.index("opportunity_territory") if "opportunity_territory" in keys else len(keys)
    prefix = [k for k in keys[:split] if k != "opportunity_territory"]
    suffix = [k for k in keys[split:] if k != "opportunity_territory"]
    if "territory_id" in prefix:
        suffix = []
    table = _rank(table, prefix, "prefix_rank")
    table = _rank(table, suffix, "suffix_rank")
    uses_opportunity = "opportunity_territory" in keys
    span = table.height + 1
    return table.with_columns(
        opportunity_weight=pl.lit(span if uses_opportunity else 0, pl.Int64),
        prefix_weight=pl.lit(2 * span, pl.Int64),
    ).sort("territory_id")


def record_matches(
    matches: pl.LazyFrame,
    records: pl.DataFrame,
    opportunity_territories: pl.LazyFrame,
    territories: pl.DataFrame,
    picks: pl.DataFrame,
) -> pl.DataFrame:
    """Each (record, candidate territory): ``seq``, ``territory_rank`` and integer keys.

    ``tiebreak`` orders a record's territories (smallest wins); ``pick_code`` identifies
    the territory's start-of-run pick for the record type (an owner, or the overflow
    queue when it has nobody), so comparing picks is integer work.
    ``opportunity_territories`` lists (account_key, territory_id) pairs where a member
    owns an open opportunity on the account. A lead that matches one territory both on
    its own attributes and through its account keeps one row, labelled with its own match.
    """
    keys = records.lazy().select("seq", "record_type", "record_id", "account_key")
    candidates = matches.select("record_type", "record_id", "territory_id", "match_source")
    account_rows = candidates.filter(
        (pl.col("record_type") == "account") & (pl.col("match_source") == "record")
    ).join(
        keys.filter(pl.col("record_type") == "account").drop("record_type"),
        on="record_id",
        how="inner",
    )
    lead_rows = (
        candidates.filter(pl.col("record_type") == "lead")
        .join(
            keys.filter(pl.col("record_type") == "lead").drop("record_type"),
            on="record_id",
            how="inner",
        )
        .group_by("seq", "territory_id")
        .agg(
            pl.col("record_type").first(),
            pl.col("record_id").first(),
            pl.col("account_key").first(),
            pl.col("match_source").max(),
        )
    )
    columns = ["seq", "record_type", "territory_id", "match_source", "account_key"]
    # One code per distinct pick: the owner, or the queue when nobody can take records
    # (two full territories sharing one queue agree).
    coded_picks = (
        territories.lazy()
        .select("territory_id", "queue")
        .join(pl.LazyFrame({"record_type": ["account", "lead"]}), how="cross")
        .join(picks.lazy(), on=["territory_id", "record_type"], how="left")
        .with_columns(
            pick_code=pl.coalesce(
                pl.concat_str([pl.lit("owner:"), pl.col("pick_owner_id")]),
                pl.concat_str([pl.lit("queue:"), pl.col("queue")]),
            )
            .rank("dense")
            .cast(pl.Int64)
        )
        .drop("queue")
    )
    span = territories.height + 1
    return (
        pl.concat([account_rows.select(columns), lead_rows.select(columns)])
        .join(opportunity_territories, on=["account_key", "territory_id"], how="left")
        .join(
            territories.lazy().select(
                "territory_id",
                "territory_rank",
                "prefix_rank",
                "suffix_rank",
                "prefix_weight",
                "opportunity_weight",
            ),
            on="territory_id",
            how="inner",
        )
        .join(coded_picks, on=["territory_id", "record_type"], how="left")
        .select(
            "seq",
            "record_type",
            "territory_rank",
            "match_source",
            "pick_owner_id",
            "pick_code",
            # Unique per territory: the tiebreak, then the territory itself.
            tiebreak=(
                pl.col("prefix_rank") * pl.col("prefix_weight")
                + pl.when(pl.col("opportunity_member").fill_null(False))
                .then(0)
                .otherwise(pl.col("opportunity_weight"))
                + pl.col("suffix_rank")
            )
            * span
            + pl.col("territory_rank"),
        )
        .collect(engine="in-memory")
    )


def opportunity_territories(opportunities: pl.LazyFrame, members: pl.LazyFrame) -> pl.LazyFrame:
    """(account_key, territory_id) where a territory member owns an open opportunity."""
    return (
        opportunities.select(account_key="account_id", rep_id="owner_id")
        .unique()
        .join(members.select("territory_id", "rep_id"), on="rep_id", how="inner")
        .select("account_key", "territory_id", opportunity_member=pl.lit(True))
        .unique()
    )


def winners(matched: pl.DataFrame, territories: pl.DataFrame) -> pl.DataFrame:
    """Per record (``seq``): the winning territory (id, name, queue, rank) and whether
    the matched territories disagree.

    ``contested``: the territories would pick different owners (or queues) at the start
    of the run, i.e. a multi_territory conflict.
    """
    span = territories.height + 1
    return (
        matched.lazy()
        .group_by("seq")
        .agg(
            best=pl.col("tiebreak").min(),
            matched_count=pl.len().cast(pl.Int64),
            contested=pl.col("pick_code").min() != pl.col("pick_code").max(),
        )
        .with_columns(territory_rank=pl.col("best") % span)
        .join(
            territories.lazy().select(
                "territory_rank",
                win_territory_id="territory_id",
                win_territory_name="territory_name",
                win_territory_queue="queue",
            ),
            on="territory_rank",
            how="left",
        )
        .drop("best", "territory_rank")
        .collect(engine="streaming")
    )
