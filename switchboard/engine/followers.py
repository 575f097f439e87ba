"""Leads that follow an account this run decides.

A lead whose matched account this run decides *follows* that account (docs/ARCHITECTURE.md
"Rule hierarchy"): where ``account_owner`` reads the account's owner, it reads the owner or
queue the account is given in this run instead of the exported one. The account's decision
may come from the territory placement, so a follower is settled in two steps:
`with_followers` before placement (the account's owner when a rule before the territory
already gives it; otherwise the lead is held out of the territory rule, ``follow_pending``)
and `redecide_followers` once every account is decided. Accounts never follow
anything, so one step of each suffices.
"""

from __future__ import annotations

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine.hierarchy import (
    _NO_OWNER,
    Outcome,
    earlier_owner,
    first_hit,
    manager_reviewed,
    rule_outcome,
    rules_before_territory,
)


def _follow_columns() -> dict[str, pl.Expr]:
    """The follow columns of a record that follows nothing (every account, most leads)."""
    return {
        "follows": pl.lit(False),
        "follow_pending": pl.lit(False),
        "followed_seq": pl.lit(None, pl.UInt32()),
        "account_owner_queue": _NO_OWNER,
        "account_owner_territory_id": _NO_OWNER,
    }


def _beside(frame: pl.LazyFrame, rows: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with the columns of ``rows`` (a few records, keyed by ``seq``), null for
    the other records. Only ``seq`` goes through the join and the result is attached by
    position: carrying the wide record frame through a join costs more than the rest of
    the follow steps together. A record twice in ``rows`` (an account id repeated in the
    accounts, which the marts check rules out) fails here rather than shifting rows."""
    looked_up = frame.select("seq").join(
        rows, on="seq", how="left", maintain_order="left", validate="m:1"
    )
    return pl.concat([frame, looked_up.drop("seq")], how="horizontal")


def with_followers(facts: pl.LazyFrame, config: RoutingConfig) -> pl.LazyFrame:
    """Mark the leads that follow an account decided in this run, before placement.

    ``facts`` holds every record with the candidates of the rules before the territory
    and ``redistributed``; ``earlier_owner_id`` (see `earlier_owner`) is added, first as if
    nobody followed (an account's is then final), then for the followers. A lead follows
    when its matched account is among this run's records, the account_owner rule is on
    and the account is not kept for manager review (that decision gives the account
    neither a new owner nor a queue, so the lead is routed as before). ``followed_seq`` is
    the account's ``seq``.

    When a rule before the territory gives the account its owner, that owner is the
    lead's account_owner candidate at once (and counts towards the load the territory
    sees, like any earlier rule). Otherwise, if account_owner comes before the territory
    rule and no rule ahead of account_owner gives the lead an owner, the lead is
    ``follow_pending``: it stays out of the territory rule and learns its owner or queue
    from the account's decision (`redecide_followers`).
    """
    frame = facts.with_columns(**_follow_columns()).with_columns(
        earlier_owner_id=earlier_owner(config)
    )
    if "account_owner" not in config.enabled_rules:
        return frame
    accounts = frame.filter(
        (pl.col("record_type") == "account") & ~manager_reviewed(config)
    ).select(account_key="record_id", _followed_seq="seq", _followed_owner_id="earlier_owner_id")
    before = rules_before_territory(config)
    if "account_owner" in before:
        ahead = [rule_outcome(r, config).owner_id for r in before[: before.index("account_owner")]]
        waits = pl.coalesce(ahead).is_null() if ahead else pl.lit(True)
    else:
        waits = pl.lit(False)  # the territory rule comes first: nothing to hold back
    links = (
        frame.filter(
            (pl.col("record_type") == "lead") & pl.col("account_key").is_not_null() & ~pl.col("sla")
        )
        .select("seq", "account_key")
        .join(accounts, on="account_key", how="inner")
        .drop("account_key")
    )
    return (
        _beside(frame, links)
        .with_columns(follows=pl.col("_followed_seq").is_not_null())
        .with_columns(
            followed_seq=pl.when("follows").then(pl.col("_followed_seq")),
            account_owner_candidate=pl.when("follows")
            .then(pl.col("_followed_owner_id"))
            .otherwise(pl.col("account_owner_candidate")),
            follow_pending=pl.col("follows") & pl.col("_followed_owner_id").is_null() & waits,
        )
        .with_columns(earlier_owner_id=earlier_owner(config))
        .drop("_followed_seq", "_followed_owner_id")
    )


def pending_followers(facts: pl.DataFrame) -> pl.DataFrame:
    """``seq`` of each account whose owner its followers wait for, with their number
    (``leads``): the placement counts them on the account's new owner."""
    return (
        facts.lazy()
        .filter(pl.col("follow_pending"))
        .group_by(seq="followed_seq")
        .agg(leads=pl.len().cast(pl.Int64))
        .collect(engine="in-memory")
    )


def redecide_followers(decided: pl.LazyFrame, outcomes: list[Outcome]) -> pl.LazyFrame:
    """Decide each following lead again with its account's decision, as the account_owner
    rule reads it.

    ``decided`` carries every record with the candidate columns of all rules (placement
    included) and its decision by `first_hit`. Accounts never follow, so that decides every
    account (and every lead that follows nothing); the followers, a few rows, are decided
    again with their account's outcome and put back in place. A follower's account_owner
    candidate becomes the account's new owner, ``account_owner_queue`` its queue and
    ``account_owner_territory_id`` the territory it was decided through; the lead's
    ``account_owner_id`` (what conflicts compare) becomes that new owner too.
    ``followed_rule`` and ``followed_territory_name`` say how, for the rationale.
    """
    accounts = decided.filter(pl.col("record_type") == "account").select(
        _followed_seq="seq",
        _owner_id="owner_id",
        account_owner_queue="queue",
        account_owner_territory_id="territory_id",
        followed_rule="rule",
        followed_territory_name=pl.when(pl.col("territory_id").is_not_null()).then(
            pl.col("win_territory_name")
        ),
    )
    redecided = [
        "rule",
        "owner_id",
        "queue",
        "territory_id",
        "account_owner_candidate",
        "account_owner_id",
    ]
    followers = (
        decided.filter(pl.col("follows"))
        .drop("account_owner_queue", "account_owner_territory_id")
        .join(accounts, left_on="followed_seq", right_on="_followed_seq", how="inner")
        .with_columns(account_owner_candidate="_owner_id", account_owner_id="_owner_id")
        .with_columns(**first_hit(outcomes))
        .select(
            "seq",
            "account_owner_queue",
            "account_owner_territory_id",
            "followed_rule",
            "followed_territory_name",
            *(pl.col(c).alias(f"_followed_{c}") for c in redecided),
        )
    )
    follows = pl.col("follows")
    return (
        _beside(decided.drop("account_owner_queue", "account_owner_territory_id"), followers)
        .with_columns(
            pl.when(follows).then(pl.col(f"_followed_{c}")).otherwise(pl.col(c)).alias(c)
            for c in redecided
        )
        .drop(f"_followed_{c}" for c in redecided)
    )
