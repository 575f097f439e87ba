"""Who needs an owner this run, and why (the *owner problem* of each record).

docs/ARCHITECTURE.md ("Needs an owner"): a record needs an owner when it is unowned or its
owner is not valid; a record
with a valid owner is left alone. Which problems a run repairs is its plan's
:class:`Selection` (switchboard/plans.py):

* by default, the problems listed in ``routing.yml`` ``hourly_repairs``. ``not_in_hr``
  (a CRM user missing from the HR export) counts as ``unknown_owner`` for that list.
* ``also_repairs=("outside_territory",)`` (a territory change): also accounts whose valid
  owner is a member of none of the territories the account now matches (on its own
  attributes), unless the owner is pinned there by the named list (account, parent or
  ultimate parent) or holds an open opportunity on the account. An account matching no
  territory is not moved: there is nowhere better to send it.
* ``leavers_only`` (a departure): only the records owned by the named leavers, whatever
  else is wrong.
* ``sla_breaches`` (every plan but a departure's): also the leads whose first-touch SLA
  ran out (routing.yml ``sla:``, switchboard.engine.sla), though their owner is valid, and
  whether or not a scoped run's scope (an arrivals pass's new records) lists them.

On leave is not a problem: the rep keeps the book and only stops receiving new records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.config.routing import OwnerProblem
from switchboard.engine.inputs import EngineInputs

OUTSIDE_TERRITORY = "outside_territory"


@dataclass(frozen=True)
class Selection:
    """Which records a run decides; each run's plan holds one (switchboard/plans.py).

    ``leavers_only``: only the records owned by the leavers the run names, whatever else
    is wrong with them. ``also_repairs``: owner problems repaired on top of routing.yml's
    ``hourly_repairs`` (``outside_territory`` is worked out only when asked for).
    ``sla_breaches``: also re-route the leads whose first-touch SLA ran out, when
    routing.yml has ``sla:`` (never with ``leavers_only``).
    """

    leavers_only: bool = False
    also_repairs: tuple[str, ...] = ()
    sla_breaches: bool = True

    def __post_init__(self) -> None:
        known = {*get_args(OwnerProblem), OUTSIDE_TERRITORY}
        unknown = sorted(set(self.also_repairs) - known)
        if unknown:
            raise ValueError(
                f"unknown owner problem {', '.join(unknown)}; "
                f"the problems are {', '.join(sorted(known))}"
            )

    def repairs(self, config: RoutingConfig) -> list[str]:
        return [*config.hourly_repairs, *self.also_repairs]

    def checks_sla(self, config: RoutingConfig) -> bool:
        """Whether the run re-routes leads past their first-touch SLA."""
        return self.sla_breaches and not self.leavers_only and config.sla is not None


# The hourly run's selection: routing.yml's hourly_repairs, nothing more.
REPAIRS_ONLY = Selection()

INVALID_AVAILABILITY = ("terminated", "deactivated", "role_change", "not_in_hr")
# Keeps a book: available, on leave, or held because the export has a problem with the
# rep's row (no evidence of a departure; see int_reps_joined_to_hr).
VALID_AVAILABILITY = ("available", "on_leave", "data_problem")
AVAILABILITY = (*VALID_AVAILABILITY, *INVALID_AVAILABILITY)
LEAVER_PROBLEMS = ("terminated", "deactivated", "role_change")

RECORDS_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "created_at": pl.Datetime("us"),
    "previous_owner_id": pl.String(),
    "problem": pl.String(),
    "account_key": pl.String(),
    "account_name": pl.String(),
    "account_owner_id": pl.String(),
    "parent_account_id": pl.String(),
    "ultimate_parent_account_id": pl.String(),
    "tier": pl.Int64(),
    "match_method": pl.String(),
    # Skills the record's rep must have: a lead's required_skills, lower-cased, sorted and
    # distinct (empty for accounts).
    "required_skills": pl.List(pl.String()),
    # A lead whose first-touch SLA ran out (switchboard.engine.sla): re-routed within
    # sla_territory_id, never to a rep in sla_held_by; to manager review when exhausted.
    "sla": pl.Boolean(),
    "sla_territory_id": pl.String(),
    "sla_reroutes": pl.Int64(),
    "sla_held_by": pl.List(pl.String()),
    "sla_exhausted": pl.Boolean(),
    "sla_clock_started_at": pl.Datetime("us"),
}

_NOT_SLA = {
    "sla": pl.lit(False),
    "sla_territory_id": pl.lit(None, pl.String()),
    "sla_reroutes": pl.lit(None, pl.Int64()),
    "sla_held_by": pl.lit(None, pl.List(pl.String())),
    "sla_exhausted": pl.lit(False),
    "sla_clock_started_at": pl.lit(None, pl.Datetime("us")),
}


def _owner_problem(owner: str) -> pl.Expr:
    """The problem with an owner column after joining the rep flags (``_known`` etc.)."""
    return (
        pl.when(pl.col(owner).is_null())
        .then(pl.lit("unowned"))
        .when(pl.col("_known").is_null())
        .then(pl.lit("unknown_owner"))
        .when(pl.col("_availability").is_in(INVALID_AVAILABILITY))
        .then(pl.col("_availability"))
        # A rep marked invalid without one of the reasons above is still invalid.
        .when(~pl.col("_is_valid_owner"))
        .then(pl.lit("unknown_owner"))
    )


def _rep_flags(reps: pl.DataFrame) -> pl.LazyFrame:
    return reps.lazy().select(
        "rep_id",
        _known=pl.lit(True),
        _availability="availability",
        _is_valid_owner="is_valid_owner",
    )


def _named_owners(inputs: EngineInputs) -> pl.LazyFrame:
    """One designated owner per named account (the smallest id if the list repeats one)."""
    return (
        inputs.named_accounts.filter(pl.col("owner_id").is_not_null())
        .group_by("account_id")
        .agg(pl.col("owner_id").min())
    )


def _outside_territory(accounts: pl.LazyFrame, inputs: EngineInputs) -> pl.LazyFrame:
    """Flag accounts whose valid owner belongs to none of the account's matched territories."""
    owned = accounts.filter(pl.col("problem").is_null()).select("account_id", "owner_id")
    matches = (
        inputs.territory_matches.filter(
            (pl.col("record_type") == "account") & (pl.col("match_source") == "record")
        )
        .select(account_id="record_id", territory_id="territory_id")
        .join(owned, on="account_id", how="inner")
    )
    matched = matches.select("account_id").unique()
    inside = (
        matches.join(
            inputs.territory_members.select("territory_id", owner_id="rep_id"),
            on=["territory_id", "owner_id"],
            how="semi",
        )
        .select("account_id")
        .unique()
    )
    named = _named_owners(inputs)
    pinned_named = pl.concat(
        [
            owned.join(accounts.select("account_id", key=column), on="account_id")
            .join(named.rename({"account_id": "key", "owner_id": "named_owner_id"}), on="key")
            .filter(pl.col("named_owner_id") == pl.col("owner_id"))
            .select("account_id")
            for column in ("account_id", "parent_account_id", "ultimate_parent_account_id")
        ]
    )
    pinned_opportunity = owned.join(
        inputs.opportunities.select("account_id", "owner_id"),
        on=["account_id", "owner_id"],
        how="semi",
    ).select("account_id")
    pinned = pl.concat([pinned_named, pinned_opportunity]).unique()
    outside = (
        matched.join(inside, on="account_id", how="anti")
        .join(pinned, on="account_id", how="anti")
        .with_columns(_outside=pl.lit(True))
    )
    return accounts.join(outside, on="account_id", how="left").with_columns(
        problem=pl.when(pl.col("_outside"))
        .then(pl.lit("outside_territory"))
        .otherwise(pl.col("problem"))
    )


def _selected(
    selection: Selection, config: RoutingConfig, leaver_rep_ids: Sequence[str]
) -> pl.Expr:
    """Which records this run decides, given their owner problem."""
    if selection.leavers_only:
        return pl.col("previous_owner_id").is_in(list(leaver_rep_ids))
    as_listed = pl.col("problem").replace({"not_in_hr": "unknown_owner"})
    return as_listed.is_in(selection.repairs(config))


def records_needing_owner(
    inputs: EngineInputs,
    reps: pl.DataFrame,
    config: RoutingConfig,
    selection: Selection,
    leaver_rep_ids: Sequence[str],
    breaches: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Accounts and leads this run decides, one row each, in arrival order (``seq``).

    Leads carry their matched account as ``account_key`` (with its parents, owner and
    name), so the account-level rules read the same columns for both record types.
    ``seq`` orders records by (created_at, record_type, record_id): the order in which a
    territory hands out its capacity, and the order of the decisions table. A record
    without created_at counts as the oldest.

    ``breaches`` (switchboard.engine.sla.BREACHES) are leads whose first-touch SLA ran
    out: decided too (their owner is valid, so they have no owner problem), with the
    ``sla_*`` columns set, whatever the scope. Only a selection that checks the SLA
    passes them.
    """
    flags = _rep_flags(reps)
    accounts = (
        inputs.accounts.join(flags, left_on="owner_id", right_on="rep_id", how="left")
        .with_columns(problem=_owner_problem("owner_id"))
        .drop("_known", "_availability", "_is_valid_owner")
    )
    if OUTSIDE_TERRITORY in selection.repairs(config) and not selection.leavers_only:
        accounts = accounts.pipe(_outside_territory, inputs)
    account_records = accounts.select(
        record_type=pl.lit("account"),
        record_id="account_id",
        created_at="created_at",
        previous_owner_id="owner_id",
        problem="problem",
        account_key="account_id",
        account_name="account_name",
        account_owner_id="owner_id",
        parent_account_id="parent_account_id",
        ultimate_parent_account_id="ultimate_parent_account_id",
        tier="tier",
        match_method=pl.lit(None, pl.String()),
        required_skills=pl.lit([], pl.List(pl.String())),
        **_NOT_SLA,
    )
    matched = inputs.accounts.select(
        matched_account_id="account_id",
        account_name="account_name",
        account_owner_id="owner_id",
        parent_account_id="parent_account_id",
        ultimate_parent_account_id="ultimate_parent_account_id",
    )
    lead_records = (
        inputs.leads.join(flags, left_on="owner_id", right_on="rep_id", how="left")
        .with_columns(problem=_owner_problem("owner_id"))
        .join(matched, on="matched_account_id", how="left")
        .select(
            record_type=pl.lit("lead"),
            record_id="lead_id",
            created_at="created_at",
            previous_owner_id="owner_id",
            problem="problem",
            account_key="matched_account_id",
            account_name="account_name",
            account_owner_id="account_owner_id",
            parent_account_id="parent_account_id",
            ultimate_parent_account_id="ultimate_parent_account_id",
            tier=pl.lit(None, pl.Int64()),
            match_method="match_method",
            required_skills=pl.col("required_skills")
            .list.eval(pl.element().str.strip_chars().str.to_lowercase())
            .list.eval(pl.element().filter(pl.element() != ""))
            .list.unique()
            .list.sort()
            .fill_null(pl.lit([], pl.List(pl.String()))),
            **_NOT_SLA,
        )
    )
    selected = _selected(selection, config, leaver_rep_ids)
    scope = inputs.scope
    if breaches is not None and not breaches.is_empty():
        lead_records = _with_breaches(lead_records, breaches)
        selected = selected | pl.col("sla")
        if scope is not None:
            scope = pl.concat(
                [scope, breaches.lazy().select(record_type=pl.lit("lead"), record_id="lead_id")]
            ).unique()
    records = pl.concat([account_records, lead_records])
    if scope is not None:
        records = records.join(
            scope, on=["record_type", "record_id"], how="semi", maintain_order="left"
        )
    return (
        records.filter(selected.fill_null(False))
        .sort("created_at", "record_type", "record_id")
        .with_row_index("seq")
        .collect(engine="in-memory")
    )


def _with_breaches(leads: pl.LazyFrame, breaches: pl.DataFrame) -> pl.LazyFrame:
    """The lead records with the ``sla_*`` columns of the leads that breached their SLA."""
    breached = breaches.lazy().select(
        record_id="lead_id",
        _sla=pl.lit(True),
        _territory_id="territory_id",
        _reroutes="reroutes",
        _held_by="held_by",
        _exhausted="exhausted",
        _clock="clock_started_at",
    )
    hit = pl.col("_sla").fill_null(False)
    return (
        leads.join(breached, on="record_id", how="left", maintain_order="left")
        .with_columns(
            sla=hit,
            sla_territory_id=pl.col("_territory_id"),
            sla_reroutes=pl.col("_reroutes"),
            sla_held_by=pl.col("_held_by"),
            sla_exhausted=hit & pl.col("_exhausted").fill_null(False),
            sla_clock_started_at=pl.col("_clock"),
        )
        .drop("_sla", "_territory_id", "_reroutes", "_held_by", "_exhausted", "_clock")
    )
