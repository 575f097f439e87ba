"""The rule hierarchy as data: each rule is a candidate column, routing.yml gives the order.

Every record carries, side by side, what each rule would do for it (the candidate
columns read by `rule_outcome`: ``opp_owner_id``, ``named_account_owner_id``,
``account_owner_candidate``, ``alloc_owner_id``, ...). The decision is then the first
enabled rule, in routing.yml order, whose candidate is not null: one ``when/then`` chain
built by a loop over the rules, no ``if`` per record.

Before the hierarchy, a leaver's accounts (owner terminated, deactivated or moved to a
non-carrying role) pass through the redistribution rules of docs/ARCHITECTURE.md "Ownership
changes": ``manager_review`` (open pipeline: owner kept, manager alerted) and
``territory_pool`` (tiers in ``redistribution.pool_tiers``: the winning territory's pool,
or the fallback queue when the account matches no territory).

``overflow_queue`` only means something once the territory rule has tried: if routing.yml
lists it before ``territory`` it is evaluated right after ``territory``.

A lead whose first-touch SLA ran out (``sla``, switchboard.engine.sla) skips the hierarchy
as a leaver's account does: ``sla_reroute`` gives it the territory's pick among the
members who have not held it yet (its territory is the one it was routed through), and
``manager_review`` keeps it with its owner when the re-routes are exhausted or nobody else
can take it (`sla_outcomes`). It never follows an account.

A lead whose matched account this run decides *follows* that account: its follow steps
(`with_followers`, `redecide_followers`) are switchboard.engine.followers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from switchboard import rules
from switchboard.config import RoutingConfig
from switchboard.engine.eligibility import LEAVER_PROBLEMS
from switchboard.engine.territory import format_queue

OWNER_RULES = rules.OWNER_RULES


def effective_rules(config: RoutingConfig) -> list[str]:
    """Enabled rules in evaluation order (overflow_queue moved after territory if needed)."""
    names = list(config.enabled_rules)
    if (
        "overflow_queue" in names
        and "territory" in names
        and names.index("overflow_queue") < names.index("territory")
    ):
        names.remove("overflow_queue")
        names.insert(names.index("territory") + 1, "overflow_queue")
    return names


def rules_before_territory(config: RoutingConfig) -> list[str]:
    """The owner rules that are evaluated before the territory rule."""
    names = effective_rules(config)
    cut = names.index("territory") if "territory" in names else len(names)
    return [n for n in names[:cut] if n in OWNER_RULES]


def opportunity_facts(
    opportunities: pl.LazyFrame, reps: pl.DataFrame, records: pl.LazyFrame
) -> pl.LazyFrame:
    """Per account with open pipeline: the opportunity that decides, and who owns pipeline.

    Opportunities rank by amount (largest first), then created_at, then opportunity_id.
    ``opp_*`` is the best one whose owner is available (the open_opportunity candidate);
    ``pipeline_*`` describes all of them whoever owns them (manager review, conflicts).
    """
    available = reps.lazy().select("rep_id", _available=pl.col("is_available"))
    ranked = (
        opportunities.join(records, left_on="account_id", right_on="account_key", how="semi")
        .join(available, left_on="owner_id", right_on="rep_id", how="left")
        .with_columns(_available=pl.col("_available").fill_null(False))
        # Missing amounts rank last, missing dates after dated ones (fill, not nulls_last:
        # the multi-column sort stays on its fast path).
        .sort(
            pl.col("account_id"),
            pl.col("amount").fill_null(float("-inf")),
            pl.col("created_at").fill_null(datetime.max),
            pl.col("opportunity_id"),
            descending=[False, True, False, False],
        )
    )
    best_available = (
        ranked.filter(pl.col("_available") & pl.col("owner_id").is_not_null())
        .group_by("account_id", maintain_order=True)
        .agg(
            opp_id=pl.col("opportunity_id").first(),
            opp_owner_id=pl.col("owner_id").first(),
            opp_amount=pl.col("amount").first(),
        )
    )
    pipeline = ranked.group_by("account_id", maintain_order=True).agg(
        pipeline_opp_id=pl.col("opportunity_id").first(),
        pipeline_owner_id=pl.col("owner_id").first(),
        # Conflict candidates: one per distinct owner of open pipeline, best first.
        pipeline_candidates=pl.struct(
            rule=pl.lit("open_opportunity"),
            territory_id=pl.lit(None, pl.String()),
            owner_id=pl.col("owner_id"),
            queue=pl.lit(None, pl.String()),
        )
        .filter(pl.col("owner_id").is_not_null())
        .unique(maintain_order=True),
        pipeline_owner_count=pl.col("owner_id").drop_nulls().n_unique(),
        pipeline_owner_min=pl.col("owner_id").min(),
    )
    return pipeline.join(best_available, on="account_id", how="left").rename(
        {"account_id": "account_key"}
    )


def named_facts(records: pl.LazyFrame, named: pl.LazyFrame, reps: pl.DataFrame) -> pl.LazyFrame:
    """The named-account candidate of each record, and the named parent for conflicts.

    The account itself on the list with an available owner wins as ``named_account``;
    else the parent, then the ultimate parent (``named_parent``). ``named_parent_*`` is
    the nearest named ancestor whatever its owner's availability: a subsidiary whose own
    owner or territory points elsewhere is a named_subsidiary conflict.
    """
    owners = (
        named.filter(pl.col("owner_id").is_not_null())
        .group_by("account_id")
        .agg(pl.col("owner_id").min())
        .join(
            reps.lazy().select("rep_id", "is_available"),
            left_on="owner_id",
            right_on="rep_id",
            how="left",
        )
        .with_columns(pl.col("is_available").fill_null(False))
    )
    levels = {
        "self": "account_key",
        "parent": "parent_account_id",
        "ultimate": "ultimate_parent_account_id",
    }
    frame = records
    for level, column in levels.items():
        frame = frame.join(
            owners.rename(
                {
                    "account_id": column,
                    "owner_id": f"_{level}_owner",
                    "is_available": f"_{level}_available",
                }
            ),
            on=column,
            how="left",
            maintain_order="left",
        )
    is_self = pl.col("account_key") == pl.col("parent_account_id")
    ult_is_self = pl.col("account_key") == pl.col("ultimate_parent_account_id")
    parent_named = pl.col("_parent_owner").is_not_null() & ~is_self.fill_null(False)
    ultimate_named = pl.col("_ultimate_owner").is_not_null() & ~ult_is_self.fill_null(False)
    return frame.with_columns(
        named_rule=pl.when(pl.col("_self_available"))
        .then(pl.lit("named_account"))
        .when(parent_named & pl.col("_parent_available"))
        .then(pl.lit("named_parent"))
        .when(ultimate_named & pl.col("_ultimate_available"))
        .then(pl.lit("named_parent")),
        named_account_owner_id=pl.when(pl.col("_self_available"))
        .then(pl.col("_self_owner"))
        .when(parent_named & pl.col("_parent_available"))
        .then(pl.col("_parent_owner"))
        .when(ultimate_named & pl.col("_ultimate_available"))
        .then(pl.col("_ultimate_owner")),
        named_source_id=pl.when(pl.col("_self_available"))
        .then(pl.col("account_key"))
        .when(parent_named & pl.col("_parent_available"))
        .then(pl.col("parent_account_id"))
        .when(ultimate_named & pl.col("_ultimate_available"))
        .then(pl.col("ultimate_parent_account_id")),
        is_named_self=pl.col("_self_owner").is_not_null(),
        named_parent_owner_id=pl.when(parent_named)
        .then(pl.col("_parent_owner"))
        .when(ultimate_named)
        .then(pl.col("_ultimate_owner")),
        named_parent_account_id=pl.when(parent_named)
        .then(pl.col("parent_account_id"))
        .when(ultimate_named)
        .then(pl.col("ultimate_parent_account_id")),
    ).drop(
        "_self_owner",
        "_self_available",
        "_parent_owner",
        "_parent_available",
        "_ultimate_owner",
        "_ultimate_available",
    )


def account_owner_candidate(reps: pl.DataFrame) -> tuple[pl.LazyFrame, pl.Expr]:
    """Availability of the account's owner, and the account_owner candidate (leads only)."""
    flags = reps.lazy().select(account_owner_id="rep_id", _account_owner_available="is_available")
    candidate = pl.when(
        (pl.col("record_type") == "lead") & pl.col("_account_owner_available").fill_null(False)
    ).then(pl.col("account_owner_id"))
    return flags, candidate


def earlier_owner(config: RoutingConfig) -> pl.Expr:
    """The owner a rule evaluated before the territory rule gives the record, if any.

    Null for a redistributed account (its rules come first) and for a lead that follows an
    account whose owner only the territory placement will tell (``follow_pending``).
    """
    owners = [rule_outcome(r, config).owner_id for r in rules_before_territory(config)]
    if not owners:
        return _NO_OWNER
    return pl.when(~pl.col("redistributed") & ~pl.col("follow_pending") & ~pl.col("sla")).then(
        pl.coalesce(owners)
    )


@dataclass(frozen=True)
class Outcome:
    """One rule's contribution: the rule label, owner, queue and territory it yields."""

    rule: pl.Expr
    owner_id: pl.Expr
    queue: pl.Expr
    territory_id: pl.Expr

    @property
    def hit(self) -> pl.Expr:
        return self.owner_id.is_not_null() | self.queue.is_not_null()


_NO_OWNER = pl.lit(None, pl.String())


def _leaver_book() -> pl.Expr:
    return (pl.col("record_type") == "account") & pl.col("problem").is_in(LEAVER_PROBLEMS)


def manager_reviewed(config: RoutingConfig) -> pl.Expr:
    """Whether manager_review takes the record: a leaver's account with open pipeline."""
    if not config.redistribution.manager_review_open_pipeline:
        return pl.lit(False)
    return _leaver_book() & pl.col("pipeline_opp_id").is_not_null()


def redistributed(config: RoutingConfig) -> pl.Expr:
    """Whether a redistribution rule (manager_review or territory_pool) takes the record."""
    taken = pl.lit(False)
    if config.redistribution.manager_review_open_pipeline:
        taken = taken | pl.col("pipeline_opp_id").is_not_null()
    if config.redistribution.pool_tiers:
        taken = taken | pl.col("tier").is_in(list(config.redistribution.pool_tiers)).fill_null(
            False
        )
    return _leaver_book() & taken


def reaches_territory(config: RoutingConfig) -> pl.Expr:
    """Whether the territory rule places the record: nothing before it decided (a lead
    waiting for its account's owner is decided by account_owner), it is on, and the record
    matched a territory (needs ``win_territory_id``). A lead past its first-touch SLA is
    placed (excluding who held it) unless its re-routes are exhausted."""
    hierarchy = (
        ~pl.col("redistributed")
        & ~pl.col("follow_pending")
        & pl.col("earlier_owner_id").is_null()
        & pl.col("win_territory_id").is_not_null()
        & pl.lit("territory" in config.enabled_rules)
    )
    sla = pl.col("sla")
    return (
        pl.when(sla)
        .then(~pl.col("sla_exhausted") & pl.col("win_territory_id").is_not_null())
        .otherwise(hierarchy)
    )


def sla_outcomes() -> list[Outcome]:
    """A lead past its first-touch SLA (before every other rule): ``sla_reroute`` to the
    member the placement gave it (the reps who held it excluded), else ``manager_review``
    with the owner kept (re-routes exhausted, or no other member could take it)."""
    sla = pl.col("sla")
    rerouted = sla & pl.col("alloc_owner_id").is_not_null()
    return [
        Outcome(
            rule=pl.lit("sla_reroute"),
            owner_id=pl.when(rerouted).then(pl.col("alloc_owner_id")),
            queue=_NO_OWNER,
            territory_id=pl.when(rerouted).then(pl.col("win_territory_id")),
        ),
        Outcome(
            rule=pl.lit("manager_review"),
            owner_id=pl.when(sla).then(pl.col("previous_owner_id")),
            queue=_NO_OWNER,
            territory_id=pl.when(sla).then(pl.coalesce("win_territory_id", "sla_territory_id")),
        ),
    ]


def redistribution_outcomes(config: RoutingConfig) -> list[Outcome]:
    """manager_review and territory_pool for a leaver's accounts (before the hierarchy)."""
    leaver_book = _leaver_book()
    outcomes: list[Outcome] = []
    if config.redistribution.manager_review_open_pipeline:
        outcomes.append(
            Outcome(
                rule=pl.lit("manager_review"),
                owner_id=pl.when(manager_reviewed(config)).then(pl.col("previous_owner_id")),
                queue=_NO_OWNER,
                territory_id=_NO_OWNER,
            )
        )
    if config.redistribution.pool_tiers:
        pooled = leaver_book & pl.col("tier").is_in(list(config.redistribution.pool_tiers))
        outcomes.append(
            Outcome(
                rule=pl.lit("territory_pool"),
                owner_id=_NO_OWNER,
                queue=pl.when(pooled).then(
                    pl.when(pl.col("win_territory_id").is_not_null())
                    .then(format_queue(config.queues.territory_pool, pl.col("win_territory_id")))
                    .otherwise(pl.lit(config.queues.fallback))
                ),
                territory_id=pl.col("win_territory_id"),
            )
        )
    return outcomes


def rule_outcome(name: str, config: RoutingConfig) -> Outcome:
    """What one hierarchy rule yields for every record, as expressions on the record frame."""
    if name == "open_opportunity":
        return Outcome(pl.lit(name), pl.col("opp_owner_id"), _NO_OWNER, _NO_OWNER)
    if name == "named_account":
        return Outcome(pl.col("named_rule"), pl.col("named_account_owner_id"), _NO_OWNER, _NO_OWNER)
    if name == "account_owner":
        return Outcome(
            pl.lit(name),
            pl.col("account_owner_candidate"),
            pl.col("account_owner_queue"),
            pl.col("account_owner_territory_id"),
        )
    if name == "territory":
        return Outcome(
            pl.lit(name), pl.col("alloc_owner_id"), _NO_OWNER, pl.col("win_territory_id")
        )
    if name == "overflow_queue":
        unplaced = pl.col("win_territory_id").is_not_null() & pl.col("alloc_owner_id").is_null()
        return Outcome(
            pl.lit(name),
            _NO_OWNER,
            pl.when(unplaced).then(pl.col("win_territory_queue")),
            pl.col("win_territory_id"),
        )
    if name == "fallback_queue":
        return Outcome(pl.lit(name), _NO_OWNER, pl.lit(config.queues.fallback), _NO_OWNER)
    raise ValueError(f"unknown rule {name!r}")


def first_hit(outcomes: list[Outcome]) -> dict[str, pl.Expr]:
    """The first outcome with a candidate wins: rule, owner_id, queue, territory_id."""
    if not outcomes:
        return {k: _NO_OWNER for k in ("rule", "owner_id", "queue", "territory_id")}
    columns: dict[str, pl.Expr] = {}
    for field in ("rule", "owner_id", "queue", "territory_id"):
        first = outcomes[0]
        chain: Then | ChainedThen = pl.when(first.hit).then(getattr(first, field))
        for outcome in outcomes[1:]:
            chain = chain.when(outcome.hit).then(getattr(outcome, field))
        columns[field] = chain.otherwise(_NO_OWNER)
    return columns
