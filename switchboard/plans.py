"""What each kind of run does, in one place: a run's mode names a plan, and the stages
(switchboard.stages) read the plan's fields instead of asking which mode they are in.

Every routing run goes through the same stages — prepare, ingest, transform, route,
check, guard, record, publish — and differs only in what those stages take in and hand
to the engine:

- hourly: ingests the whole export (emptying the arrivals scope) and records what it
  changed, builds the marts (the per-record models only for the changed records when the
  last build allows it, switchboard.changes), decides every record needing an owner.
- arrivals: ingests the records new since the watermark and makes them the change set,
  builds the day's marts incrementally on it once those exist (switchboard.changes),
  decides only them; its identity includes the watermark, so the run ledger never answers
  for it.
- departure: reuses the marts built today from the same export and settings, decides
  the leaver's book; its effective time may lie before the export. It alone leaves the
  first-touch SLA (routing.yml sla:) alone: every other run, an arrivals pass included,
  also re-routes the leads whose clock ran out (Selection.sla_breaches).
- territory_change: ingests the export with the new plan's files (their row counts may
  drop), also decides accounts left outside their owner's territories.

A what-if (switchboard.whatif) is two dry runs of the territory_change plan on one scratch
copy of the warehouse, under the current config and plan and under the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from switchboard.engine.eligibility import OUTSIDE_TERRITORY, Selection

Mode = Literal["hourly", "arrivals", "departure", "territory_change"]

# The entities a territory change replaces on purpose: their row counts may drop.
PLAN_ENTITIES = ("territories", "territory_members")


@dataclass(frozen=True)
class Plan:
    """The choices a mode makes at each stage."""

    mode: Mode
    # route: which records the engine decides (switchboard.engine.eligibility.Selection).
    selection: Selection = field(default_factory=Selection)
    # prepare/ingest/route: the run routes only the records new since the last published
    # hourly or arrivals run (routing.arrival_scope), and builds the marts on them alone.
    arrivals_only: bool = False
    # ingest: the run routes every record needing an owner, so the arrivals scope of
    # passes that stopped is emptied (not in a dry run, which publishes nothing).
    routes_every_record: bool = False
    # ingest/transform: the marts built today from this very export and these settings
    # serve again (a departure right after the hourly run costs seconds).
    reuses_marts: bool = False
    # prepare: deliver what earlier runs left pending before doing anything else. Not in
    # an arrivals pass: during an outage the retries would delay its records' owners.
    delivers_pending_first: bool = True
    # before anything starts: an unchanged, already published export is answered from
    # the run ledger (an arrivals pass's identity includes its watermark, set in prepare).
    answers_from_ledger: bool = True
    # ingest: stop when the export holds records created well after the as-of. A
    # departure's effective time may lie before the export (a leaver since yesterday).
    checks_export_time: bool = True
    # ingest: the row-drop guard ignores these entities (the run replaces them).
    replaces: tuple[str, ...] = ()
    # the command-line option that carries the as-of, for messages.
    as_of_option: str = "--as-of"


PLANS: dict[Mode, Plan] = {
    "hourly": Plan("hourly", routes_every_record=True),
    "arrivals": Plan(
        "arrivals", arrivals_only=True, delivers_pending_first=False, answers_from_ledger=False
    ),
    "departure": Plan(
        "departure",
        Selection(leavers_only=True, sla_breaches=False),
        reuses_marts=True,
        checks_export_time=False,
        as_of_option="--effective",
    ),
    "territory_change": Plan(
        "territory_change", Selection(also_repairs=(OUTSIDE_TERRITORY,)), replaces=PLAN_ENTITIES
    ),
}


def plan_for(mode: str) -> Plan:
    """The plan of a mode; a mode without one is a programming error named in full."""
    try:
        return PLANS[mode]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown run mode {mode!r}; the modes are {', '.join(PLANS)}") from None
