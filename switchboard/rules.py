"""The routing rules and alert types, each named and described once.

Every list of rule names or alert types is derived from here: the rules routing.yml may
order (switchboard.config), the values of ``routing.decisions.rule``
(switchboard.engine.schema ``RULES``, the Great Expectations value set in
switchboard.quality), the owner rules of the hierarchy, the rationale's wording and the
order its sentences are built in (switchboard.engine.rationale), the summary's labels
(switchboard.summary, switchboard.messages, the CLI and the report), and each alert type's
title, counted nouns and severity (switchboard.alerts, switchboard.messages). The dbt
``accepted_values`` lists cannot import Python; tests/unit/test_rules.py fails until
they agree with this module.

What each rule *does* stays with its logic (switchboard/engine/hierarchy.py,
capacity.py, sla.py, eligibility.py); docs/ARCHITECTURE.md ("Where each rule lives")
says where. This module imports nothing of Switchboard's, so the engine may import it
like switchboard.config, which imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a decision by the rule gives the record: a rep, a queue, its owner kept for a
# manager to review, or a territory's pool (a queue that holds accounts of the pool tiers).
Outcome = Literal["owner", "queue", "review", "pool"]
# The alert severities, least urgent first.
Severity = Literal["info", "warning", "high"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "high")


@dataclass(frozen=True)
class RuleSpec:
    """One value of ``routing.decisions.rule``.

    ``ordered``: routing.yml's ``rules:`` orders and enables it (a hierarchy rule, in its
    default order); otherwise a run adds it (redistribution, the first-touch SLA, or a
    named account's parent under ``named_account``). ``summary_label``: "<n> records
    <label>" in the run summary. ``followed_as``: how the account a lead follows was
    decided in this run, in the lead's rationale ("routed this run <followed_as> to
    <owner>" for an owner, "sent this run to <followed_as> <queue>" for a queue or pool);
    None when a lead never follows an account decided so. ``sentences``: the rationale
    sentences of switchboard.engine.rationale that explain the rule's decisions (a
    manager review of a lead past its SLA has one of its own). ``placed``: the territory's
    pick (capacity or round robin) placed the record, raising its rep's workload index.
    """

    name: str
    outcome: Outcome
    ordered: bool
    summary_label: str
    followed_as: str | None = None
    sentences: tuple[str, ...] = ()
    placed: bool = False

    @property
    def rationale_sentences(self) -> tuple[str, ...]:
        return self.sentences or (self.name,)


# In the order of the default hierarchy; the rules a run adds come after it.
RULE_SPECS: tuple[RuleSpec, ...] = (
    RuleSpec(
        "open_opportunity",
        "owner",
        True,
        "to open-opportunity owners",
        followed_as="by its open opportunity",
    ),
    RuleSpec(
        "named_account",
        "owner",
        True,
        "to named-account owners",
        followed_as="by the named-account list",
    ),
    RuleSpec(
        "named_parent",
        "owner",
        False,
        "to named parents' owners",
        followed_as="by its named parent",
    ),
    RuleSpec("account_owner", "owner", True, "with their accounts (owner or queue)"),
    RuleSpec("territory", "owner", True, "via territory", followed_as="by territory", placed=True),
    RuleSpec("overflow_queue", "queue", True, "to overflow queues", followed_as="overflow queue"),
    RuleSpec(
        "fallback_queue", "queue", True, "to the fallback queue", followed_as="catch-all queue"
    ),
    RuleSpec(
        "manager_review",
        "review",
        False,
        "kept for manager review",
        sentences=("sla_manager_review", "manager_review"),
    ),
    RuleSpec("territory_pool", "pool", False, "to territory pools", followed_as="territory pool"),
    RuleSpec(
        "sla_reroute",
        "owner",
        False,
        "re-routed: not touched within the first-touch SLA",
        placed=True,
    ),
)
RULE_BY_NAME: dict[str, RuleSpec] = {r.name: r for r in RULE_SPECS}

# Every value of routing.decisions.rule.
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULE_SPECS)
# The rules routing.yml's `rules:` may order and disable, in their default order.
ORDERED_RULES: tuple[str, ...] = tuple(r.name for r in RULE_SPECS if r.ordered)
# The ordered rules that give a record a rep (the hierarchy's owner rules).
OWNER_RULES: tuple[str, ...] = tuple(
    r.name for r in RULE_SPECS if r.ordered and r.outcome == "owner"
)
# The rules whose decisions the territory's pick placed.
PLACED_RULES: tuple[str, ...] = tuple(r.name for r in RULE_SPECS if r.placed)
# Decisions that send a record to a queue (a queue or a territory's pool).
QUEUE_RULES: tuple[str, ...] = tuple(r.name for r in RULE_SPECS if r.outcome in ("queue", "pool"))
RULE_LABELS: dict[str, str] = {r.name: r.summary_label for r in RULE_SPECS}
# Rationale wording of the account a lead follows, by the rule that decided the account.
FOLLOWED_OWNER_WORDING: dict[str, str] = {
    r.name: r.followed_as for r in RULE_SPECS if r.followed_as and r.outcome == "owner"
}
FOLLOWED_QUEUE_WORDING: dict[str, str] = {
    r.name: r.followed_as for r in RULE_SPECS if r.followed_as and r.outcome in ("queue", "pool")
}
# The rationale's sentences, one per branch of switchboard.engine.rationale.
RATIONALE_SENTENCES: tuple[str, ...] = tuple(s for r in RULE_SPECS for s in r.rationale_sentences)


@dataclass(frozen=True)
class AlertSpec:
    """One value of ``routing.alerts.type``.

    ``title``: the heading of its group in a message and the summary; ``one`` / ``many``:
    the counted noun of a headline ("1 rep over capacity", "3 reps over capacity");
    ``severity``: what every alert of the type carries, None when it depends on the alert
    (rep_data_problem: high when the rep holds a book); ``in_digest``: listed in each
    recipient's message (otherwise only the run summary and the outbox files show it).
    """

    name: str
    title: str
    one: str
    many: str
    severity: Severity | None
    in_digest: bool


# Most urgent first: the order a recipient's message lists its groups in.
ALERT_SPECS: tuple[AlertSpec, ...] = (
    AlertSpec(
        "guard_tripped", "Run stopped by a guard", "guard tripped", "guards tripped", "high", True
    ),
    AlertSpec(
        "unowned_account",
        "Accounts without a valid owner",
        "account without a valid owner",
        "accounts without a valid owner",
        "high",
        True,
    ),
    AlertSpec(
        "pipeline_handoff",
        "Open pipeline to hand off",
        "pipeline handoff",
        "pipeline handoffs",
        "high",
        True,
    ),
    AlertSpec(
        "sla_breached",
        "Leads not touched within their SLA",
        "lead not touched within its SLA",
        "leads not touched within their SLA",
        "warning",
        True,
    ),
    AlertSpec(
        "rep_data_problem",
        "Reps held by a data problem",
        "rep held by a data problem",
        "reps held by a data problem",
        None,
        True,
    ),
    AlertSpec(
        "rep_overloaded",
        "Reps over capacity",
        "rep over capacity",
        "reps over capacity",
        "warning",
        True,
    ),
    AlertSpec(
        "rule_gap",
        "Records no rule matched",
        "record no rule matched",
        "records no rule matched",
        "warning",
        True,
    ),
    # Info, potentially thousands: the run summary only.
    AlertSpec(
        "routing_conflict",
        "Routing conflicts",
        "routing conflict",
        "routing conflicts",
        "info",
        False,
    ),
    # A sink is what is failing: the files only.
    AlertSpec(
        "delivery_failed",
        "Deliveries failing",
        "delivery failing",
        "deliveries failing",
        "high",
        False,
    ),
)
ALERT_BY_NAME: dict[str, AlertSpec] = {a.name: a for a in ALERT_SPECS}

ALERT_TYPES: tuple[str, ...] = tuple(a.name for a in ALERT_SPECS)
# The alert types a recipient's message lists, most urgent first.
DIGEST_TYPES: tuple[str, ...] = tuple(a.name for a in ALERT_SPECS if a.in_digest)
GROUP_TITLES: dict[str, str] = {a.name: a.title for a in ALERT_SPECS}
HEADLINE_NOUNS: dict[str, tuple[str, str]] = {a.name: (a.one, a.many) for a in ALERT_SPECS}


def severity(alert_type: str) -> Severity:
    """The fixed severity of an alert type (KeyError for an unknown type, ValueError for one
    whose severity depends on the alert)."""
    fixed = ALERT_BY_NAME[alert_type].severity
    if fixed is None:
        raise ValueError(f"alert type {alert_type} has no fixed severity")
    return fixed
