"""First-touch SLA of inbound leads: which leads' clocks ran out at the run's as-of.

docs/ARCHITECTURE.md ("First-touch SLA"). routing.yml ``sla:`` on, a lead Switchboard gave
a rep through a territory (its latest published decision is rule ``territory`` or
``sla_reroute``: intermediate.int_lead_sla_clocks) has *breached* its SLA at the as-of when

* its source is one of ``sla.sources`` (any source when the list is empty), compared
  trimmed and ignoring case;
* the clock started at most HORIZON before the as-of and not after it;
* its owner logged no activity on it from the clock's start up to the as-of (an activity
  after the deadline but before the run that would act still counts: the lead is being
  worked);
* its owner is still the one Switchboard gave it: the export shows that rep, or still the
  owner that decision replaced while the CRM catches up ("Published owners stand until
  the CRM shows otherwise"). A lead someone reassigned in the CRM by hand is not ours;
* that owner is still a valid owner (a rep who left is the ordinary repair's business);
* ``sla.first_touch_minutes`` of the owner's working time have passed since the clock
  started: minutes inside their working hours (reps.working_hours in reps.timezone, on the
  rep's local clock), every minute for a rep without hours. A lead handed out at night to
  the rep whose shift starts first is not re-routed before that shift has run the SLA.

A breached lead with ``sla.max_reroutes`` re-routes behind it is *exhausted*: it goes to
manager review instead of another rep. The rest of the rule (the pick excluding every rep
who held the lead in its run of re-routes, the rationale, the outcome) is in the router,
capacity and rationale modules; this module only says which leads breached.

Vectorised: clocks are per lead; working minutes explode each clock into the local days it
spans (at most HORIZON and a day) and intersect them with the owner's shifts
(switchboard.engine.schedule.shifts), the as-of converted once per time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine.inputs import EngineInputs
from switchboard.engine.schedule import shifts
from switchboard.engine.schema import SLA_BREACHES

# Clocks started longer ago than this are not checked: turning the SLA on does not
# re-route an old backlog, and a run long after a lead's deadline judges a week at most.
HORIZON = timedelta(days=7)

BREACHES: dict[str, pl.DataType] = {
    "lead_id": pl.String(),
    "owner_id": pl.String(),
    "territory_id": pl.String(),
    "clock_started_at": pl.Datetime("us"),
    # sla_reroute decisions behind this clock, and everyone who held the lead in them.
    "reroutes": pl.Int64(),
    "held_by": pl.List(pl.String()),
    # reroutes reached sla.max_reroutes: manager review rather than another rep.
    "exhausted": pl.Boolean(),
}

_MINUTE_US = 60_000_000


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=BREACHES)


def breaches(inputs: EngineInputs, config: RoutingConfig, as_of: datetime) -> pl.DataFrame:
    """The leads whose first-touch SLA ran out at ``as_of`` (naive UTC), one row each
    (BREACHES). ``inputs`` are the engine's normalised inputs; ``leads.owner_id`` is the
    owner as the run reads it (pending published owners applied)."""
    sla = config.sla
    if sla is None:
        return empty()
    since = as_of - HORIZON
    clocks = inputs.sla_clocks.filter(
        (pl.col("clock_started_at") <= as_of)
        & (pl.col("clock_started_at") > since)
        & (pl.col("first_touch_at").is_null() | (pl.col("first_touch_at") > as_of))
    )
    if sla.sources:
        clocks = clocks.filter(
            pl.col("source").str.strip_chars().str.to_lowercase().is_in(sla.source_keys)
        )
    owners = inputs.reps.select("rep_id", "is_valid_owner", "timezone", "working_hours").unique(
        "rep_id"
    )
    candidates = (
        clocks.join(
            inputs.leads.select("lead_id", _export_owner="owner_id"), on="lead_id", how="inner"
        )
        .filter(pl.col("_export_owner") == pl.col("owner_id"))
        .join(owners, left_on="owner_id", right_on="rep_id", how="inner")
        .filter(pl.col("is_valid_owner").fill_null(False))
        .unique("lead_id", keep="first")
        .collect(engine="in-memory")
    )
    if candidates.is_empty():
        return empty()
    elapsed = working_minutes(candidates, as_of)
    return (
        candidates.join(elapsed, on="lead_id", how="left")
        .filter(pl.col("minutes").fill_null(0.0) >= sla.first_touch_minutes)
        .select(
            "lead_id",
            "owner_id",
            "territory_id",
            "clock_started_at",
            reroutes=pl.col("reroutes").fill_null(0),
            held_by=pl.concat_list(
                pl.col("held_by").fill_null(pl.lit([], pl.List(pl.String()))), pl.col("owner_id")
            )
            .list.unique()
            .list.sort(),
            exhausted=pl.col("reroutes").fill_null(0) >= sla.max_reroutes,
        )
        .sort("lead_id")
        .cast(BREACHES)  # type: ignore[arg-type]
    )


def working_minutes(clocks: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Per clock (``lead_id``, ``owner_id``, ``clock_started_at`` naive UTC, the owner's
    ``timezone`` and ``working_hours``): minutes of the owner's working time from the
    clock's start to ``as_of`` (``minutes``).

    Without working hours every minute counts. With them, the overlap of the interval with
    the rep's shifts on the rep's local clock (a DST change inside the interval is not
    corrected for); overlapping shifts count once.
    """
    wall = (pl.lit(as_of) - pl.col("clock_started_at")).dt.total_microseconds() / _MINUTE_US
    always = clocks.filter(pl.col("working_hours").is_null()).select(
        "lead_id", minutes=wall.clip(lower_bound=0.0)
    )
    timed = clocks.filter(pl.col("working_hours").is_not_null())
    if timed.is_empty():
        return always
    return pl.concat([always, _shift_minutes(timed, as_of)])


def _shift_minutes(clocks: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """working_minutes for owners with working hours (see there)."""
    instant = as_of.replace(tzinfo=UTC)
    zoned = clocks.with_columns(zone=pl.coalesce(pl.col("timezone"), pl.lit("UTC")))
    local: list[pl.DataFrame] = []
    for (zone,), part in zoned.partition_by("zone", as_dict=True).items():
        try:
            local.append(
                part.with_columns(
                    local_start=pl.col("clock_started_at")
                    .dt.replace_time_zone("UTC")
                    .dt.convert_time_zone(str(zone))
                    .dt.replace_time_zone(None),
                    local_end=pl.lit(instant)
                    .dt.convert_time_zone(str(zone))
                    .dt.replace_time_zone(None),
                )
            )
        except pl.exceptions.PolarsError:  # a zone Polars lacks: never working
            continue
    if not local:
        return pl.DataFrame(schema={"lead_id": pl.String(), "minutes": pl.Float64()})
    frame = pl.concat(local)
    hours = shifts(frame.lazy().select(rep_id="owner_id", working_hours="working_hours").unique())
    # The local days the interval touches, from the day before its start (a shift past
    # midnight) to the day of its end.
    first_day = pl.col("local_start").dt.date() - pl.duration(days=1)
    span = (pl.col("local_end").dt.date() - first_day).dt.total_days()
    midnight = pl.col("day").cast(pl.Datetime("us"))
    start = pl.max_horizontal(
        midnight + pl.duration(minutes=pl.col("start")), pl.col("local_start")
    )
    end = pl.min_horizontal(midnight + pl.duration(minutes=pl.col("end")), pl.col("local_end"))
    overlaps = (
        frame.lazy()
        .filter(pl.col("local_end") > pl.col("local_start"))
        .with_columns(offset=pl.int_ranges(0, span + 1))
        .explode("offset")
        .with_columns(day=first_day + pl.duration(days=pl.col("offset")))
        .with_columns(weekday=pl.col("day").dt.weekday().cast(pl.Int64) - 1)
        .join(hours, left_on=["owner_id", "weekday"], right_on=["rep_id", "weekday"], how="inner")
        .select("lead_id", begin=start.cast(pl.Int64), finish=end.cast(pl.Int64))
        .filter(pl.col("finish") > pl.col("begin"))
        .sort("lead_id", "begin", "finish")
        # The union of the intervals: each counts from where the ones before it ended.
        .with_columns(reached=pl.col("finish").cum_max().shift(1).over("lead_id"))
        .select(
            "lead_id",
            counted=(
                pl.col("finish")
                - pl.max_horizontal("begin", pl.col("reached").fill_null(pl.col("begin")))
            ).clip(lower_bound=0),
        )
        .group_by("lead_id")
        .agg(minutes=pl.col("counted").sum() / _MINUTE_US)
    )
    return (
        frame.lazy()
        .select("lead_id")
        .join(overlaps, on="lead_id", how="left")
        .select("lead_id", minutes=pl.col("minutes").fill_null(0.0).cast(pl.Float64))
        .collect(engine="in-memory")
    )


def own_territory(matches: pl.LazyFrame, records: pl.DataFrame) -> pl.LazyFrame:
    """The territory matches the records are placed by, a lead past its SLA kept to the
    territory it was routed through (``sla_territory_id``): re-routed to another member
    of the same team. A lead that no longer matches that territory (the plan changed)
    keeps all its matches, and goes to the one it matches now."""
    routed = records.filter(pl.col("sla")).select(
        record_type=pl.lit("lead"), record_id="record_id", _own="sla_territory_id"
    )
    if routed.is_empty():
        return matches
    keys = ["record_type", "record_id"]
    mine = matches.join(routed.lazy(), on=keys, how="inner")
    at_home = pl.col("territory_id") == pl.col("_own")
    kept = mine.filter(at_home | ~at_home.any().over(keys)).drop("_own")
    return pl.concat([matches.join(routed.lazy(), on=keys, how="anti"), kept])


def outcomes(decided: pl.DataFrame, config: RoutingConfig) -> pl.DataFrame:
    """The decisions of the leads past their SLA, for the sla_breached alerts
    (schema.SLA_BREACHES): who let the lead lapse, who has it now (null when it was kept
    for manager review) and which re-route this is."""
    if config.sla is None or "sla" not in decided.columns:
        return pl.DataFrame(schema=SLA_BREACHES)
    rerouted = pl.col("rule") == "sla_reroute"
    return (
        decided.lazy()
        .filter(pl.col("sla"))
        .select(
            "record_id",
            "previous_owner_id",
            owner_id=pl.when(rerouted).then(pl.col("owner_id")),
            rule="rule",
            territory_id=pl.coalesce("territory_id", "sla_territory_id"),
            territory_name=pl.col("win_territory_name"),
            clock_started_at="sla_clock_started_at",
            first_touch_minutes=pl.lit(config.sla.first_touch_minutes),
            reroute=pl.when(rerouted).then(pl.col("sla_reroutes").fill_null(0) + 1),
            reroutes_before=pl.col("sla_reroutes").fill_null(0),
            max_reroutes=pl.lit(config.sla.max_reroutes),
        )
        .cast(SLA_BREACHES)  # type: ignore[arg-type]
        .collect(engine="in-memory")
    )
