"""Why each decision was made: one sentence for a sales manager, and the candidate list.

Rationale sentences are built from columns (``pl.format``/``concat_str``), one expression
per rule applied to that rule's rows only, so a million-record run formats each row once.
Rep and territory *names* are used; ids only where no name exists.

``candidates`` lists every candidate the hierarchy had for the record, in evaluation
order, as ``"<rule>:<territory_id>:<owner_id or queue>"`` (territory_id empty when the
rule has none; a queue may itself contain ``:``, so split on the first two only):

* ``manager_review``/``territory_pool`` when the redistribution rule applied;
* each enabled owner rule that had an available owner (named rules under their label
  ``named_account``/``named_parent``); ``territory`` shows the owner the territory gave
  the record, or for a record another rule decided, who it would have picked first;
  ``account_owner`` of a lead that follows an account decided in this run shows the
  account's new owner or queue, and its territory when it was decided through one;
* ``overflow_queue`` when the winning territory had nobody to give it to;
* ``fallback_queue`` only when it decided.

Rules after the winner are listed too: they are the alternatives a reviewer asks about.
A lead re-routed for its first-touch SLA lists only that decision (``sla_reroute`` or
``manager_review`` with its territory and owner): the other rules do not apply to it.
"""

from __future__ import annotations

import polars as pl

from switchboard import rules
from switchboard.config import RoutingConfig
from switchboard.engine.hierarchy import effective_rules

_METHOD_WORDING = {"crm_link": "CRM link", "company_name": "company name"}

# How the account a lead follows was decided in this run: "routed this run <how> to <owner>".
_FOLLOWED_OWNER_WORDING = rules.FOLLOWED_OWNER_WORDING
# ... or "sent this run to <queue kind> <queue>".
_FOLLOWED_QUEUE_WORDING = rules.FOLLOWED_QUEUE_WORDING


_PROBLEM_WORDING = {
    "terminated": " left; ",
    "deactivated": " was deactivated in the CRM; ",
    "role_change": " moved to a role that carries no accounts; ",
    "not_in_hr": " is missing from the HR snapshot; ",
    "unknown_owner": " is not a known rep; ",
    "outside_territory": " is outside every territory the account now matches; ",
}


def _group(*pieces: pl.Expr | str) -> pl.Expr:
    """Pieces that appear together or not at all: null as soon as one piece is null."""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in pieces])


def _amount() -> pl.Expr:
    amount = pl.col("opp_amount")
    return (
        pl.when(amount >= 1_000_000)
        .then(_group("$", (amount / 1_000_000).round(1), "M"))
        .when(amount >= 1_000)
        .then(_group("$", (amount / 1_000).round(0).cast(pl.Int64), "K"))
        .otherwise(_group("$", amount.round(0).cast(pl.Int64)))
    )


def _account_owner(owner: pl.Expr) -> pl.Expr:
    """The account_owner sentence after "Lead": the owner of the matched account, or, for a
    lead that follows an account decided in this run, how that account was decided.

    "Lead follows account ACC-1 (Acme Corp, matched by domain), routed this run by
    territory NA West to Ana Ruiz" / "..., sent this run to overflow queue q-west, so the
    lead goes there too".
    """
    lit = pl.lit
    method = _group("matched by ", pl.col("match_method").replace(_METHOD_WORDING))
    about = pl.concat_str([pl.col("account_name"), method], separator=", ", ignore_nulls=True)
    rule = pl.col("followed_rule")
    routed = pl.concat_str(
        [
            lit(", routed this run "),
            rule.replace_strict(_FOLLOWED_OWNER_WORDING, default=pl.format("by {}", rule)),
            _group(" ", pl.col("followed_territory_name")),
            lit(" to "),
            owner,
        ],
        ignore_nulls=True,
    )
    queued = pl.concat_str(
        [
            lit(", sent this run to "),
            rule.replace_strict(_FOLLOWED_QUEUE_WORDING, default="queue"),
            lit(" "),
            pl.col("queue"),
            lit(", so the lead goes there too"),
        ]
    )
    follows = pl.concat_str(
        [
            lit(" follows account "),
            pl.col("account_key"),
            pl.when(about != "").then(_group(" (", about, ")")),
            pl.when(pl.col("queue").is_null()).then(routed).otherwise(queued),
        ],
        ignore_nulls=True,
    )
    owned = pl.concat_str(
        [
            lit(" matched account "),
            pl.coalesce("account_name", "account_key"),
            _group(" by ", pl.col("match_method").replace(_METHOD_WORDING)),
            lit(", owned by "),
            owner,
        ],
        ignore_nulls=True,
    )
    return pl.when(pl.col("follows")).then(follows).otherwise(owned)


def _sentences(config: RoutingConfig) -> dict[str, tuple[str, list[pl.Expr]]]:
    """Each rule's sentence as (first word, the remaining pieces).

    The first word is capitalised only when no owner problem precedes it; everything is
    one flat ``concat_str`` so each row is written once. Optional parts are groups that
    vanish together when one of their columns is null.
    """
    lit = pl.lit
    owner = pl.col("owner_name")
    territory = pl.col("win_territory_name")
    skipped = pl.col("skipped_text")
    queue = pl.col("queue")
    no_territory = pl.col("win_territory_id").is_null()
    record = pl.when(pl.col("record_type") == "lead").then(lit("lead")).otherwise(lit("account"))
    skills = pl.col("skills_text")
    # A lead requiring skills nobody in the territory has, else nobody could take it.
    overflow: tuple[str, list[pl.Expr]] = (
        "No",
        [
            pl.when(pl.col("skilled") == 0)
            .then(_group(" member with skills ", skills, " in territory ", territory))
            .otherwise(
                pl.concat_str(
                    [
                        lit(" member of territory "),
                        territory,
                        _group(" with skills ", skills),
                        lit(" could take it"),
                        _group(" (", skipped, " skipped, the rest at capacity)"),
                    ],
                    ignore_nulls=True,
                )
            ),
            lit("; sent to overflow queue "),
            queue,
        ],
    )
    if "territory" not in config.enabled_rules:
        overflow = (
            "Territory",
            [
                lit(" routing is off; matched territory "),
                territory,
                lit(", sent to overflow queue "),
                queue,
            ],
        )
    # How the territory's pick went, after "... to <owner>".
    pick = [
        pl.when(pl.col("alloc_rr_position").is_not_null())
        .then(lit(" (next in the round-robin rotation, index "))
        .otherwise(lit(" (lightest available member, index ")),
        pl.col("alloc_index").round(0).cast(pl.Int64),
        lit(")"),
        _group("; has skills ", skills),
        pl.when(pl.col("alloc_off_hours"))
        .then(
            _group("; outside working hours; ", owner, " starts ", pl.col("alloc_next_start_text"))
        )
        .otherwise(_group("; not working now: ", pl.col("off_duty_text"))),
        _group("; ", skipped, " skipped"),
    ]
    # A lead past its first-touch SLA: "Not touched within 30 min by Ana Lopez; ...".
    minutes = config.sla.first_touch_minutes if config.sla is not None else 0
    most = config.sla.max_reroutes if config.sla is not None else 0
    lapsed = [
        lit(f" touched within {minutes} min by "),
        pl.coalesce("previous_owner_name", "previous_owner_id"),
    ]
    reroutes = pl.col("sla_reroutes").fill_null(0)
    return {
        "manager_review": (
            "Account",
            [
                lit(" has open pipeline ("),
                pl.col("pipeline_opp_id"),
                lit("), kept for manager review"),
            ],
        ),
        "territory_pool": (
            "Tier",
            [
                _group(" ", pl.col("tier")),
                pl.when(no_territory)
                .then(lit(" account sent to "))
                .otherwise(lit(" account sent to territory pool ")),
                queue,
                pl.when(no_territory).then(lit(" (no territory matched)")),
            ],
        ),
        "open_opportunity": (
            "Open",
            [
                lit(" opportunity "),
                pl.col("opp_id"),
                _group(" (", _amount(), ")"),
                lit(" is owned by "),
                owner,
                _group("; ", record, " matched ", pl.col("match_text")),
            ],
        ),
        "named_account": (
            "Named",
            [lit(" account "), pl.col("named_source_name"), lit(" is assigned to "), owner],
        ),
        "named_parent": (
            "Parent",
            [
                lit(" account "),
                pl.col("named_source_name"),
                lit(" is a named account assigned to "),
                owner,
            ],
        ),
        "account_owner": ("Lead", [_account_owner(owner)]),
        "territory": ("Routed", [lit(" by territory "), territory, lit(" to "), owner, *pick]),
        "sla_reroute": (
            "Not",
            [
                *lapsed,
                lit("; re-routed ("),
                (reroutes + 1).cast(pl.String),
                lit(f" of {most})"),
                lit(" by territory "),
                territory,
                lit(" to "),
                owner,
                *pick,
            ],
        ),
        "sla_manager_review": (
            "Not",
            [
                *lapsed,
                pl.when(pl.col("sla_exhausted") & (reroutes > 0))
                .then(
                    pl.format(
                        " after {} re-route{} (sla.max_reroutes)",
                        reroutes,
                        pl.when(reroutes == 1).then(lit("")).otherwise(lit("s")),
                    )
                )
                .when(pl.col("sla_exhausted"))
                .then(lit(" (sla.max_reroutes is 0)"))
                .otherwise(
                    pl.concat_str(
                        [
                            lit("; no other member of territory "),
                            pl.coalesce(territory, "sla_territory_id"),
                            lit(" could take it"),
                            _group(" (", skipped, " skipped, the rest at capacity or held it)"),
                        ],
                        ignore_nulls=True,
                    )
                ),
                lit("; kept for manager review"),
            ],
        ),
        "overflow_queue": overflow,
        "fallback_queue": (
            "No",
            [
                pl.when(no_territory)
                .then(lit(" territory or other rule matched"))
                .otherwise(lit(" rule found an available owner")),
                lit("; sent to catch-all queue "),
                queue,
            ],
        ),
    }


# One branch per sentence of _sentences; the branches are disjoint (_branch), so their
# order does not matter: the rows are put back in seq order.
RATIONALE_RULES = rules.RATIONALE_SENTENCES


def rationale_by_seq(
    decided: pl.DataFrame,
    config: RoutingConfig,
    *,
    names: pl.LazyFrame,
    match_text: pl.LazyFrame,
    skipped: pl.LazyFrame,
    named_accounts: pl.LazyFrame,
) -> pl.DataFrame:
    """``seq, rationale``: "<owner problem>; <rule sentence>." in ``seq`` order.

    One narrow branch per rule over that rule's rows (a loop over rules): each row is
    formatted once, by its own rule's sentence, and each branch joins only the lookups
    its sentence reads (territory text, named account names, conflict descriptions).
    """
    prefix = pl.col("_prefix")
    sentences = _sentences(config)
    parts = []
    for rule in RATIONALE_RULES:
        first, pieces = sentences[rule]
        branch = decided.lazy().filter(_branch(rule))
        if rule == "open_opportunity":
            branch = branch.join(match_text, on="seq", how="left")
        if rule in ("territory", "overflow_queue", "sla_reroute", "sla_manager_review"):
            branch = branch.join(skipped, on="win_territory_id", how="left")
        if rule in ("named_account", "named_parent"):
            branch = branch.join(
                named_accounts.select(
                    named_source_id="account_id", named_source_name="account_name"
                ),
                on="named_source_id",
                how="left",
            ).with_columns(named_source_name=pl.coalesce("named_source_name", "named_source_id"))
        parts.append(
            branch.join(
                names.select(previous_owner_id="rep_id", previous_owner_name="rep_name"),
                on="previous_owner_id",
                how="left",
            )
            .with_columns(
                _prefix=_group(
                    "Owner ",
                    pl.coalesce("previous_owner_name", "previous_owner_id"),
                    pl.col("problem").replace_strict(_PROBLEM_WORDING, default=None),
                )
            )
            .select(
                "seq",
                rationale=pl.concat_str(
                    [
                        prefix,
                        pl.when(prefix.is_null())
                        .then(pl.lit(first))
                        .otherwise(pl.lit(first.lower())),
                        *pieces,
                        pl.lit("."),
                    ],
                    ignore_nulls=True,
                ),
            )
        )
    return pl.concat(parts).sort("seq").collect(engine="in-memory")


def _branch(rule: str) -> pl.Expr:
    """The decisions one sentence of _sentences is for: its rule's, a manager review of a
    lead past its first-touch SLA having a sentence of its own."""
    if rule == "sla_manager_review":
        return (pl.col("rule") == "manager_review") & pl.col("sla")
    if rule == "manager_review":
        return (pl.col("rule") == "manager_review") & ~pl.col("sla")
    return pl.col("rule") == rule


# Joins the candidate strings before splitting them into a list: building the list with
# concat_str + split is several times faster than concat_list + drop_nulls on large runs.
_SEPARATOR = "\x1f"


def candidate_list(config: RoutingConfig) -> pl.Expr:
    """The ``candidates`` list of a decision (format in the module docstring)."""
    territory = pl.col("win_territory_id")
    entries: list[pl.Expr] = []
    if config.redistribution.manager_review_open_pipeline:
        entries.append(
            pl.when(pl.col("rule") == "manager_review").then(
                pl.format("manager_review::{}", "previous_owner_id")
            )
        )
    entries.append(
        pl.when(pl.col("rule") == "territory_pool").then(
            pl.format("territory_pool:{}:{}", territory.fill_null(""), "queue")
        )
    )
    for rule in effective_rules(config):
        if rule == "open_opportunity":
            entries.append(pl.format("open_opportunity::{}", "opp_owner_id"))
        elif rule == "named_account":
            entries.append(pl.format("{}::{}", "named_rule", "named_account_owner_id"))
        elif rule == "account_owner":
            # A lead following an account decided in this run: the account's territory, if
            # it was decided through one, and its new owner or queue.
            entries.append(
                pl.format(
                    "account_owner:{}:{}",
                    pl.col("account_owner_territory_id").fill_null(""),
                    pl.coalesce("account_owner_candidate", "account_owner_queue"),
                )
            )
        elif rule == "territory":
            entries.append(pl.format("territory:{}:{}", territory, "pick_owner_id"))
        elif rule == "overflow_queue":
            no_owner = pl.col("pick_owner_id").is_null()
            if "territory" not in config.enabled_rules:
                no_owner = pl.lit(True)
            entries.append(
                pl.when(no_owner).then(
                    pl.format("overflow_queue:{}:{}", territory, "win_territory_queue")
                )
            )
        elif rule == "fallback_queue":
            entries.append(
                pl.when(pl.col("rule") == "fallback_queue").then(
                    pl.format("fallback_queue::{}", "queue")
                )
            )
    # A lead re-routed for its SLA: that decision is its only candidate.
    sla = pl.format("{}:{}:{}", "rule", pl.col("territory_id").fill_null(""), "owner_id")
    return (
        pl.when(pl.col("sla"))
        .then(sla)
        .otherwise(pl.concat_str(entries, separator=_SEPARATOR, ignore_nulls=True))
        .str.split(_SEPARATOR)
    )
