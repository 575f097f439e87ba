"""`switchboard report`: the routing log, workload balance, conflict and coverage reports.

``load`` does a handful of small read-only SQL reads; every report is a pure function over
those frames, and ``render_html`` turns the reports into one self-contained page. The
coverage report describes the latest build's territory plan (no window): equal-priority
overlaps, records no territory matches, and territories nobody available works.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from switchboard import charts, warehouse
from switchboard.charts import esc
from switchboard.config import RoutingConfig
from switchboard.summary import NEW_RECORD_SECONDS, RULE_LABELS

CONFLICT_LINES = 20
TOP_GROUPS = 5
WINDOW_DAYS = 7
GAP_EXAMPLES = 3


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ReportData:
    """The warehouse frames the reports read, restricted to the window where it applies."""

    since: datetime
    latest: datetime | None
    decisions: pl.DataFrame      # marts.fct_routing_decisions in the window
    conflicts: pl.DataFrame      # marts.fct_routing_conflicts in the window, plus day (the
    #                              run's as-of date)
    workload: pl.DataFrame       # latest marts.fct_rep_workload row per rep
    reps: pl.DataFrame           # rep_id, rep_name, team, carries_accounts (+ availability,
    #                              is_valid_owner)
    accounts: pl.DataFrame       # account_id, account_name, parent ids, country_code, segment
    #                              (+ owner_id, has_valid_owner)
    leads: pl.DataFrame          # lead_id, matched_account_id, country_code (+ email, owner_id)
    named_accounts: pl.DataFrame  # account_id
    # The coverage report's frames (latest build, no window); None when not loaded.
    coverage: CoverageData | None = field(default=None)
    # marts.fct_territory_fairness (its own 7- and 30-day windows, ending at the latest
    # build's as-of); None when not loaded.
    fairness: pl.DataFrame | None = field(default=None)


@dataclass(frozen=True)
class CoverageData:
    """The territory plan as the latest build matched it."""

    matches: pl.DataFrame      # marts.fct_territory_matches: record_type, record_id,
    #                            territory_id, match_source, priority
    territories: pl.DataFrame  # territory_id, territory_name, priority, overflow_queue
    members: pl.DataFrame      # marts.dim_territory_members: territory_id, rep_id,
    #                            rep_availability, rep_is_available


def load(warehouse_path: Path | str, since: datetime | None = None, *,
         coverage: bool = True) -> ReportData:
    """Read what the reports need; ``since`` defaults to 7 days before the latest run.

    ``coverage=False`` skips the territory-match frames (one row per record and matching
    territory), which only the coverage report reads."""
    path = Path(warehouse_path)
    if not path.is_file():
        raise FileNotFoundError(f"warehouse {path} does not exist; run `switchboard run` first")
    con = warehouse.connect(path, read_only=True)
    try:
        rows = con.execute("select max(as_of) from routing.runs").fetchall()
        latest: datetime | None = rows[0][0] if rows else None
        start = since or (latest or datetime.now()) - timedelta(days=WINDOW_DAYS)
        decisions = warehouse.query(
            con, "select * from marts.fct_routing_decisions where decided_at >= ?", [start])
        conflicts = warehouse.query(
            con, "select *, run_date as day from marts.fct_routing_conflicts "
            "where run_as_of >= ?", [start])
        workload = warehouse.query(
            con,
            "select * from marts.fct_rep_workload "
            "qualify row_number() over (partition by rep_id order by as_of_date desc) = 1",
        )
        reps = warehouse.query(
            con, "select rep_id, rep_name, team, carries_accounts, availability, "
            "is_valid_owner from marts.dim_reps")
        accounts = warehouse.query(
            con,
            "select account_id, account_name, parent_account_id, ultimate_parent_account_id, "
            "country_code, segment, owner_id, has_valid_owner from marts.dim_accounts",
        )
        leads = warehouse.query(
            con, "select lead_id, matched_account_id, country_code, email, owner_id "
            "from marts.dim_leads")
        named = warehouse.query(con, "select account_id from marts.dim_named_accounts")
        plan = CoverageData(
            matches=warehouse.query(
                con, "select record_type, record_id, territory_id, match_source, priority "
                "from marts.fct_territory_matches"),
            territories=warehouse.query(
                con, "select territory_id, territory_name, priority, overflow_queue "
                "from staging.stg_plan__territories"),
            members=warehouse.query(
                con, "select territory_id, rep_id, rep_availability, rep_is_available "
                "from marts.dim_territory_members"),
        ) if coverage else None
        # a warehouse last built before the fairness mart existed has none until its next run
        fairness = (warehouse.query(con, "select * from marts.fct_territory_fairness")
                    if warehouse.table_exists(con, "marts.fct_territory_fairness")
                    else pl.DataFrame(schema=FAIRNESS_SCHEMA))
    finally:
        con.close()
    return ReportData(since=start, latest=latest, decisions=decisions, conflicts=conflicts,
                      workload=workload, reps=reps, accounts=accounts, leads=leads,
                      named_accounts=named, coverage=plan, fairness=fairness)


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class RoutingReport:
    records: int
    accounts: int
    leads: int
    median_minutes: float | None
    p90_minutes: float | None
    by_rule: pl.DataFrame          # rule, records, meaning
    overflow: int
    fallback: int
    conflict_lines: list[str]

    def headline(self) -> str:
        if self.records == 0:
            return "Nothing was routed in this window."
        parts = [f"{self.records} records routed ({self.accounts} accounts, {self.leads} leads)."]
        if self.median_minutes is not None and self.p90_minutes is not None:
            parts.append(f"New records got an owner in {_minutes(self.median_minutes)} "
                         f"(median; p90 {_minutes(self.p90_minutes)}).")
        parts.append(f"{self.overflow} went to overflow and {self.fallback} to the fallback "
                     "queue.")
        return " ".join(parts)


def routing_report(decisions: pl.DataFrame, conflicts: pl.DataFrame) -> RoutingReport:
    """What was routed, how fast (new records only), by which rule, and the conflicts."""
    new = decisions.filter(
        pl.col("previous_owner_id").is_null() & (pl.col("latency_seconds") <= NEW_RECORD_SECONDS)
    )
    latency = new.select(
        median=pl.col("latency_seconds").median() / 60,
        p90=pl.col("latency_seconds").quantile(0.9, interpolation="linear") / 60,
    ).row(0, named=True)
    by_rule = (
        decisions.group_by("rule").agg(records=pl.len())
        .with_columns(meaning=pl.col("rule").replace_strict(RULE_LABELS, default=""))
        .sort(["records", "rule"], descending=[True, False])
    )
    counts = decisions.select(
        accounts=(pl.col("record_type") == "account").sum(),
        leads=(pl.col("record_type") == "lead").sum(),
        overflow=(pl.col("rule") == "overflow_queue").sum(),
        fallback=(pl.col("rule") == "fallback_queue").sum(),
    ).row(0, named=True)
    lines = (
        conflicts.head(CONFLICT_LINES)
        .select(pl.format("{} {} ({}): {}", "record_type", "record_id", "conflict_type",
                          pl.col("rationale").fill_null("")))
        .to_series().to_list()
        if conflicts.height else []
    )
    return RoutingReport(
        records=decisions.height,
        accounts=int(counts["accounts"] or 0),
        leads=int(counts["leads"] or 0),
        median_minutes=latency["median"],
        p90_minutes=latency["p90"],
        by_rule=by_rule,
        overflow=int(counts["overflow"] or 0),
        fallback=int(counts["fallback"] or 0),
        conflict_lines=lines,
    )


# ---------------------------------------------------------------- workload


def gini(column: str) -> pl.Expr:
    """Gini coefficient of ``column`` inside a group (0 = equal, →1 = one takes all).

    G = 2·Σ i·x₍ᵢ₎ / (n·Σx) - (n+1)/n over the values sorted ascending; 0 when Σx = 0.
    """
    x = pl.col(column).cast(pl.Float64)
    n = pl.len().cast(pl.Float64)
    rank = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).cast(pl.Float64)
    weighted = (x.sort() * rank).sum()
    return (
        pl.when(x.sum() > 0)
        .then(2 * weighted / (n * x.sum()) - (n + 1) / n)
        .otherwise(0.0)
    )


def fairness(assignments: pl.DataFrame) -> pl.DataFrame:
    """Per team: reps, spread (max - min) and Gini of new assignments per rep.

    ``assignments`` has one row per rep: team, rep_id, new_assignments (0 included)."""
    return (
        assignments.group_by("team")
        .agg(
            reps=pl.len(),
            new_assignments=pl.col("new_assignments").sum(),
            spread=pl.col("new_assignments").max() - pl.col("new_assignments").min(),
            gini=gini("new_assignments"),
        )
        .sort("team")
    )


# A rep's status in the workload report: the rep's availability (marts.dim_reps) when the
# rep cannot take new records, else where the index stands against routing.yml's marks.
OVER_CAPACITY = "over capacity"    # index at or above workload.high_water: skipped
ABOVE_RELEASE = "above release"    # between release and high water: skipped while flagged
OK = "ok"
NO_INDEX = "no index"              # no fct_rep_workload row for the rep
AVAILABLE = "available"


@dataclass(frozen=True)
class WorkloadReport:
    per_rep: pl.DataFrame   # team, rep_id, rep_name, workload_index, status, days_over_high_water,
    #                         new_assignments, territory_records, overflow_records
    teams: pl.DataFrame     # team, reps, avg_index, over_high_water, unavailable,
    #                         new_assignments, spread, gini
    high_water: float
    release: float

    def status_counts(self) -> dict[str, int]:
        """Reps per status, largest first."""
        counts = self.per_rep.group_by("status").agg(reps=pl.len()).sort(
            ["reps", "status"], descending=[True, False])
        return {str(k): int(v) for k, v in counts.iter_rows()}

    def headline(self) -> str:
        counts = self.status_counts()
        over = counts.get(OVER_CAPACITY, 0)
        away = {k: v for k, v in counts.items() if k not in (OVER_CAPACITY, ABOVE_RELEASE, OK,
                                                                 NO_INDEX)}
        text = (f"{over} of {self.per_rep.height} reps are over capacity (index at or above "
                f"the high-water mark, {self.high_water:g}).")
        if away:
            listed = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in away.items())
            text += f" {sum(away.values())} take no new records ({listed})."
        worst = self.teams.sort("gini", descending=True, nulls_last=True).head(1)
        if worst.height and worst["new_assignments"][0]:
            row = worst.row(0, named=True)
            text += (f" Least even team: {row['team']} (Gini {row['gini']:.2f}, spread "
                     f"{row['spread']} new records).")
        return text


def rep_status(high_water: float, release: float) -> pl.Expr:
    """The status of a rep from columns availability and workload_index: the availability
    when the rep is not available (on_leave, terminated, deactivated, role_change,
    data_problem, not_in_hr), else over capacity, above release, ok or no index."""
    index = pl.col("workload_index")
    availability = pl.col("availability").fill_null(AVAILABLE)
    return (
        pl.when(availability != AVAILABLE).then(availability)
        .when(index.is_null()).then(pl.lit(NO_INDEX))
        .when(index >= high_water).then(pl.lit(OVER_CAPACITY))
        .when(index >= release).then(pl.lit(ABOVE_RELEASE))
        .otherwise(pl.lit(OK))
    )


def workload_report(
    workload: pl.DataFrame, reps: pl.DataFrame, decisions: pl.DataFrame, config: RoutingConfig
) -> WorkloadReport:
    """Index per rep against the high-water/release lines, each rep's status (availability
    first), and how evenly teams received."""
    hw, rel = config.workload.high_water, config.workload.release
    if "carries_accounts" in reps.columns:
        reps = reps.filter(pl.col("carries_accounts").fill_null(False))
    if "availability" not in reps.columns:
        reps = reps.with_columns(availability=pl.lit(AVAILABLE))
    received = (
        decisions.filter(pl.col("owner_id").is_not_null() & (pl.col("rule") != "manager_review"))
        .group_by(pl.col("owner_id").alias("rep_id"))
        .agg(
            new_assignments=pl.len(),
            territory_records=(pl.col("rule") == "territory").sum(),
            overflow_records=(pl.col("rule") == "overflow_queue").sum(),
        )
    )
    days = (pl.col("days_over_high_water") if "days_over_high_water" in workload.columns
            else pl.lit(None, pl.Int64))
    index = workload.select("rep_id", "workload_index", days.alias("days_over_high_water"))
    per_rep = (
        reps.select("rep_id", "rep_name", pl.col("team").fill_null("(no team)"),
                    "availability")
        .join(index, on="rep_id", how="left")
        .join(received, on="rep_id", how="left")
        .with_columns(pl.col("new_assignments", "territory_records", "overflow_records")
                      .fill_null(0).cast(pl.Int64))
        .with_columns(status=rep_status(hw, rel))
        .sort(["team", "workload_index"], descending=[False, True], nulls_last=True)
    )
    teams = per_rep.group_by("team").agg(
        avg_index=pl.col("workload_index").mean(),
        over_high_water=(pl.col("workload_index") >= hw).sum(),
        unavailable=(pl.col("availability").fill_null(AVAILABLE) != AVAILABLE).sum(),
    ).join(fairness(per_rep), on="team").select(
        "team", "reps", "avg_index", "over_high_water", "unavailable", "new_assignments",
        "spread", "gini"
    ).sort("team")
    per_rep = per_rep.select("team", "rep_id", "rep_name", "workload_index", "status",
                             "days_over_high_water", "new_assignments", "territory_records",
                             "overflow_records")
    return WorkloadReport(per_rep=per_rep, teams=teams, high_water=hw, release=rel)


# ---------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class ConflictsReport:
    by_type: pl.DataFrame          # conflict_type, conflicts
    by_resolution: pl.DataFrame    # resolution, conflicts
    per_day: pl.DataFrame          # day, conflict_type, conflicts
    recommendations: pl.DataFrame  # type, evidence, subject, recommendation

    def headline(self) -> str:
        total = int(self.by_type["conflicts"].sum()) if self.by_type.height else 0
        if not total:
            return "No routing conflicts in this window."
        top = self.by_type.row(0, named=True)
        return (f"{total} conflicts, most often {top['conflict_type']} ({top['conflicts']}); "
                f"{self.recommendations.height} rule changes suggested.")


RECOMMENDATION_SCHEMA: dict[str, pl.DataType] = {
    "type": pl.String(), "evidence": pl.Int64(), "subject": pl.String(),
    "recommendation": pl.String(),
}


def _account_of_record(records: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """record_type/record_id → account_id (a lead's matched account)."""
    lead_accounts = leads.select(pl.col("lead_id").alias("record_id"),
                                 pl.col("matched_account_id").alias("lead_account_id"))
    return records.join(lead_accounts, on="record_id", how="left").with_columns(
        account_id=pl.when(pl.col("record_type") == "account").then(pl.col("record_id"))
        .otherwise(pl.col("lead_account_id"))
    ).drop("lead_account_id")


def _named_subsidiary_gaps(conflicts: pl.DataFrame, accounts: pl.DataFrame, leads: pl.DataFrame,
                           named: pl.DataFrame, since: str) -> pl.DataFrame:
    subs = conflicts.filter(pl.col("conflict_type") == "named_subsidiary").select(
        "record_type", "record_id")
    if subs.is_empty():
        return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
    named_ids = named.get_column("account_id").implode()
    parents = (
        _account_of_record(subs, leads)
        .join(accounts.select("account_id", "parent_account_id", "ultimate_parent_account_id"),
              on="account_id", how="left")
        .with_columns(parent=pl.coalesce(
            pl.when(pl.col("parent_account_id").is_in(named_ids))
            .then(pl.col("parent_account_id")),
            pl.when(pl.col("ultimate_parent_account_id").is_in(named_ids))
            .then(pl.col("ultimate_parent_account_id")),
            "ultimate_parent_account_id", "parent_account_id", pl.lit("(unknown parent)"),
        ))
        .group_by("parent").agg(n=pl.len())
        .join(accounts.select(pl.col("account_id").alias("parent"), "account_name"),
              on="parent", how="left")
        .with_columns(label=pl.when(pl.col("account_name").is_not_null())
                      .then(pl.format("{} ({})", "parent", "account_name"))
                      .otherwise(pl.col("parent")))
        .sort(["n", "parent"], descending=[True, False])
    )
    return parents.select(
        type=pl.lit("named_subsidiary"),
        evidence=pl.col("n").sum().cast(pl.Int64),
        subject=pl.col("parent").head(TOP_GROUPS).str.join(", "),
        recommendation=pl.format(
            "{} named-subsidiary conflicts since {}: add a subsidiary-of-named-account rule "
            "for parents {}", pl.col("n").sum(), pl.lit(since),
            pl.col("label").head(TOP_GROUPS).str.join(", "),
        ),
    )


def _fallback_gaps(decisions: pl.DataFrame, accounts: pl.DataFrame, leads: pl.DataFrame,
                   since: str) -> pl.DataFrame:
    fallback = decisions.filter(pl.col("rule") == "fallback_queue").select(
        "record_type", "record_id")
    if fallback.is_empty():
        return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
    acc = accounts.select(pl.col("account_id").alias("record_id"),
                          pl.col("country_code").alias("acc_country"),
                          pl.col("segment").alias("acc_segment"))
    led = leads.select(pl.col("lead_id").alias("record_id"),
                       pl.col("country_code").alias("lead_country"))
    groups = (
        fallback.join(acc, on="record_id", how="left").join(led, on="record_id", how="left")
        .with_columns(
            country=pl.when(pl.col("record_type") == "account").then(pl.col("acc_country"))
            .otherwise(pl.col("lead_country")).fill_null("unknown country"),
            segment=pl.when(pl.col("record_type") == "account").then(pl.col("acc_segment"))
            .otherwise(None).fill_null("any segment"),
        )
        .group_by("country", "segment").agg(n=pl.len())
        .sort(["n", "country", "segment"], descending=[True, False, False])
        .head(TOP_GROUPS)
    )
    return groups.select(
        type=pl.lit("fallback_queue"),
        evidence=pl.col("n").cast(pl.Int64),
        subject=pl.format("{} / {}", "country", "segment"),
        recommendation=pl.format(
            "{} records fell to the fallback queue since {} from {} ({}): add or widen a "
            "territory covering them", "n", pl.lit(since), "country", "segment",
        ),
    )


def _multi_territory_gaps(conflicts: pl.DataFrame, since: str) -> pl.DataFrame:
    multi = conflicts.filter(pl.col("conflict_type") == "multi_territory")
    if multi.is_empty():
        return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
    pairs = (
        multi.select(
            territories=pl.col("candidates")
            .list.eval(pl.element().struct.field("territory_id"))
            .list.drop_nulls().list.unique().list.sort()
        )
        .filter(pl.col("territories").list.len() >= 2)
        .with_columns(pair=pl.col("territories").list.join(" and "))
        .group_by("pair").agg(n=pl.len())
        .sort(["n", "pair"], descending=[True, False])
        .head(TOP_GROUPS)
    )
    return pairs.select(
        type=pl.lit("multi_territory"),
        evidence=pl.col("n").cast(pl.Int64),
        subject=pl.col("pair"),
        recommendation=pl.format(
            "{} multi-territory conflicts since {} between {}: give these territories distinct "
            "priorities or non-overlapping criteria", "n", pl.lit(since), "pair",
        ),
    )


def rule_gaps(conflicts: pl.DataFrame, decisions: pl.DataFrame, accounts: pl.DataFrame,
              leads: pl.DataFrame, named_accounts: pl.DataFrame, since: datetime
              ) -> pl.DataFrame:
    """Rule changes the routing log argues for: type, evidence (count), subject, text."""
    day = f"{since:%Y-%m-%d}"
    return pl.concat([
        _named_subsidiary_gaps(conflicts, accounts, leads, named_accounts, day),
        _fallback_gaps(decisions, accounts, leads, day),
        _multi_territory_gaps(conflicts, day),
    ], how="vertical_relaxed").sort("evidence", descending=True, maintain_order=True)


def conflicts_report(data: ReportData) -> ConflictsReport:
    c = data.conflicts
    by_type = c.group_by("conflict_type").agg(conflicts=pl.len()).sort(
        ["conflicts", "conflict_type"], descending=[True, False])
    by_resolution = c.group_by("resolution").agg(conflicts=pl.len()).sort(
        ["conflicts", "resolution"], descending=[True, False])
    per_day = (c.group_by("day", "conflict_type").agg(conflicts=pl.len())
               .sort("day", "conflict_type") if "day" in c.columns
               else pl.DataFrame(schema={"day": pl.Date(), "conflict_type": pl.String(),
                                         "conflicts": pl.UInt32()}))
    recs = rule_gaps(c, data.decisions, data.accounts, data.leads, data.named_accounts,
                     data.since)
    return ConflictsReport(by_type=by_type, by_resolution=by_resolution, per_day=per_day,
                           recommendations=recs)


# ---------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CoverageReport:
    # territory_a, territory_a_name, territory_b, territory_b_name, priority, records,
    # accounts, leads: pairs that both match a record at its best (lowest) priority
    overlaps: pl.DataFrame
    # record_type, country, records, needing_owner, examples: records no territory matches
    gaps: pl.DataFrame
    # territory_id, territory_name, overflow_queue, matched_records, member_count, members
    unstaffed: pl.DataFrame

    @property
    def gap_records(self) -> int:
        return int(self.gaps["records"].sum()) if self.gaps.height else 0

    @property
    def gap_needing_owner(self) -> int:
        return int(self.gaps["needing_owner"].sum()) if self.gaps.height else 0

    def headline(self) -> str:
        if self.overlaps.is_empty() and self.gaps.is_empty() and self.unstaffed.is_empty():
            return ("Every record matches a territory, no territories overlap at equal "
                    "priority and every territory has an available member.")
        overlapping = int(self.overlaps["records"].sum()) if self.overlaps.height else 0
        return (
            f"{self.overlaps.height} territory pairs overlap at equal priority "
            f"({overlapping} records); {self.gap_records} records match no territory "
            f"({self.gap_needing_owner} of them need an owner); {self.unstaffed.height} "
            "territories have no available member."
        )


OVERLAP_SCHEMA: dict[str, pl.DataType] = {
    "territory_a": pl.String(), "territory_a_name": pl.String(), "territory_b": pl.String(),
    "territory_b_name": pl.String(), "priority": pl.Int64(), "records": pl.Int64(),
    "accounts": pl.Int64(), "leads": pl.Int64(),
}


def equal_priority_overlaps(matches: pl.DataFrame, territories: pl.DataFrame) -> pl.DataFrame:
    """Territory pairs that both match a record on its own attributes at the record's best
    (lowest) priority, so the engine settles the tie by specificity and territory_id; with
    how many records (accounts, leads) each pair shares."""
    own = matches.filter(pl.col("match_source") == "record").select(
        "record_type", "record_id", "territory_id", "priority")
    best = own.filter(
        pl.col("priority") == pl.col("priority").min().over("record_type", "record_id")
    ).unique()
    pairs = (
        best.join(best.select("record_type", "record_id", territory_b="territory_id"),
                  on=["record_type", "record_id"])
        .filter(pl.col("territory_id") < pl.col("territory_b"))
    )
    if pairs.is_empty():
        return pl.DataFrame(schema=OVERLAP_SCHEMA)
    names = territories.select("territory_id", "territory_name")
    return (
        pairs.group_by(pl.col("territory_id").alias("territory_a"), "territory_b", "priority")
        .agg(
            records=pl.len(),
            accounts=(pl.col("record_type") == "account").sum(),
            leads=(pl.col("record_type") == "lead").sum(),
        )
        .join(names.rename({"territory_id": "territory_a", "territory_name": "territory_a_name"}),
              on="territory_a", how="left")
        .join(names.rename({"territory_id": "territory_b", "territory_name": "territory_b_name"}),
              on="territory_b", how="left")
        .select(list(OVERLAP_SCHEMA))
        .cast(OVERLAP_SCHEMA)  # type: ignore[arg-type]
        .sort(["records", "territory_a", "territory_b"], descending=[True, False, False])
    )


GAP_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(), "country": pl.String(), "records": pl.Int64(),
    "needing_owner": pl.Int64(), "examples": pl.String(),
}


def territory_gaps(matches: pl.DataFrame, accounts: pl.DataFrame, leads: pl.DataFrame,
                   reps: pl.DataFrame) -> pl.DataFrame:
    """Records no territory matches (on their own attributes, nor a lead through its
    account), by record type and country: how many, how many need an owner (unowned or an
    owner who is not a valid owner) and a few examples.

    A record's segment is that of its best territory, so records in a gap have none: they
    are grouped by country only."""
    valid = reps.filter(pl.col("is_valid_owner").fill_null(False)).get_column("rep_id")
    records = pl.concat([
        accounts.select(
            record_type=pl.lit("account"), record_id="account_id",
            name="account_name", country_code="country_code",
            needs_owner=~pl.col("has_valid_owner").fill_null(False)),
        leads.select(
            record_type=pl.lit("lead"), record_id="lead_id", name="email",
            country_code="country_code",
            needs_owner=~pl.col("owner_id").is_in(valid.implode()).fill_null(False)),
    ], how="vertical_relaxed")
    matched = matches.select("record_type", "record_id").unique()
    unmatched = records.join(matched, on=["record_type", "record_id"], how="anti")
    if unmatched.is_empty():
        return pl.DataFrame(schema=GAP_SCHEMA)
    example = pl.when(pl.col("name").is_not_null()).then(
        pl.format("{} ({})", "record_id", "name")).otherwise(pl.col("record_id"))
    return (
        unmatched.with_columns(country=pl.col("country_code").fill_null("unknown country"),
                               example=example)
        .sort("record_id")
        .group_by("record_type", "country")
        .agg(
            records=pl.len(),
            needing_owner=pl.col("needs_owner").sum(),
            examples=pl.col("example").head(GAP_EXAMPLES).str.join(", "),
        )
        .select(list(GAP_SCHEMA))
        .cast(GAP_SCHEMA)  # type: ignore[arg-type]
        .sort(["records", "record_type", "country"], descending=[True, False, False])
    )


UNSTAFFED_SCHEMA: dict[str, pl.DataType] = {
    "territory_id": pl.String(), "territory_name": pl.String(), "overflow_queue": pl.String(),
    "matched_records": pl.Int64(), "member_count": pl.Int64(), "members": pl.String(),
}


def territories_without_available_member(
    territories: pl.DataFrame, members: pl.DataFrame, matches: pl.DataFrame
) -> pl.DataFrame:
    """Territories where nobody takes new records: no members, or every member unavailable.
    members lists each as rep_id (availability); matched_records counts the records that
    match the territory on their own attributes (what its overflow queue stands to get)."""
    staffing = members.group_by("territory_id").agg(
        member_count=pl.len(),
        available=pl.col("rep_is_available").fill_null(False).any(),
        members=pl.format("{} ({})", "rep_id",
                          pl.col("rep_availability").fill_null("unknown"))
        .sort().str.join(", "),
    )
    matched = (
        matches.filter(pl.col("match_source") == "record")
        .group_by("territory_id")
        .agg(matched_records=pl.struct("record_type", "record_id").n_unique())
    )
    return (
        territories.select("territory_id", "territory_name", "overflow_queue")
        .join(staffing, on="territory_id", how="left")
        .filter(~pl.col("available").fill_null(False))
        .join(matched, on="territory_id", how="left")
        .with_columns(pl.col("matched_records", "member_count").fill_null(0))
        .select(list(UNSTAFFED_SCHEMA))
        .cast(UNSTAFFED_SCHEMA)  # type: ignore[arg-type]
        .sort(["matched_records", "territory_id"], descending=[True, False])
    )


def coverage_report(data: ReportData) -> CoverageReport:
    """Equal-priority overlaps, gaps and unstaffed territories of the latest build."""
    plan = data.coverage
    if plan is None:
        raise ValueError("the coverage report needs ReportData loaded with coverage=True")
    return CoverageReport(
        overlaps=equal_priority_overlaps(plan.matches, plan.territories),
        gaps=territory_gaps(plan.matches, data.accounts, data.leads, data.reps),
        unstaffed=territories_without_available_member(plan.territories, plan.members,
                                                       plan.matches),
    )


# ---------------------------------------------------------------- territory fairness

# How far a member's records may drift from the weighted expected share before the
# warn-level dbt test warn_territory_pick_drift (dbt_project/models/marts/_marts__models.yml)
# fires: 2 records plus 10% of the expected records.
DRIFT_ABSOLUTE = 2.0
DRIFT_RELATIVE = 0.1
FAIRNESS_WINDOWS = (7, 30)
FAIRNESS_SCHEMA: dict[str, pl.DataType] = {
    "territory_id": pl.String(), "territory_name": pl.String(), "window_days": pl.Int32(),
    "window_start": pl.Date(), "window_end": pl.Date(), "rep_id": pl.String(),
    "rep_name": pl.String(), "weight": pl.Float64(), "available_days": pl.Int64(),
    "weighted_available_days": pl.Float64(), "records": pl.Int64(),
    "territory_records": pl.Int64(), "expected_share": pl.Float64(),
    "expected_records": pl.Float64(), "drift_records": pl.Float64(),
    "records_per_weighted_day": pl.Float64(), "territory_max_abs_drift_records": pl.Float64(),
    "territory_gini": pl.Float64(),
}


def beyond_tolerance() -> pl.Expr:
    """A member whose |drift_records| exceeds 2 records + 10% of expected_records."""
    return (pl.col("drift_records").abs()
            > DRIFT_ABSOLUTE + DRIFT_RELATIVE * pl.col("expected_records").abs())


def _signed(column: str) -> pl.Expr:
    """A drift as text with its sign and one decimal: +3.0, -2.5, 0.0."""
    value = pl.col(column)
    return (pl.when(value > 0).then(pl.format("+{}", charts.fixed(value, 1)))
            .otherwise(charts.fixed(value, 1)))


def _extreme(descending: bool) -> pl.Expr:
    """The member furthest over (descending) or under the share, as `name (+drift)`; null
    when nobody is on that side."""
    side = pl.col("drift_records") > 0 if descending else pl.col("drift_records") < 0
    named = pl.format("{} ({})", pl.col("rep_name").fill_null(pl.col("rep_id")),
                      _signed("drift_records"))
    return named.filter(side).sort_by(pl.col("drift_records").filter(side),
                                      descending=descending).first()


@dataclass(frozen=True)
class FairnessReport:
    territories: pl.DataFrame  # per window and territory, worst first: window_days,
    #                            territory_id, territory_name, members, records,
    #                            max_abs_drift, gini, beyond_tolerance, most_over, most_under
    members: pl.DataFrame      # every member row of the mart, with beyond_tolerance

    def window(self, days: int) -> pl.DataFrame:
        """The territories of one window, worst first, without the window column."""
        return self.territories.filter(pl.col("window_days") == days).drop("window_days")

    def drifted(self, days: int) -> pl.DataFrame:
        """Territories of the window with a member beyond the tolerance, worst first."""
        return self.window(days).filter(pl.col("beyond_tolerance") > 0)

    def headline(self, days: int = FAIRNESS_WINDOWS[0]) -> str:
        picked = self.window(days).filter(pl.col("records") > 0)
        if picked.is_empty():
            return f"The territory pick gave no records in the last {days} days."
        drifted = self.drifted(days)
        text = (f"Territory fairness, last {days} days: {drifted.height} of {picked.height} "
                "territories the pick gave records to have a member off the weighted share by "
                f"more than {DRIFT_ABSOLUTE:g} records + {DRIFT_RELATIVE:.0%}.")
        worst = picked.row(0, named=True)
        if worst["max_abs_drift"]:
            text += (f" Most drifted: {worst['territory_name'] or worst['territory_id']} "
                     f"(max drift {worst['max_abs_drift']:.1f} records, Gini "
                     f"{worst['gini']:.2f}).")
        return text


def fairness_report(fairness: pl.DataFrame) -> FairnessReport:
    """Per territory and window: the largest drift from the weighted expected share, the
    Gini coefficient, how many members are beyond the tolerance, and who is furthest over and
    under; the territories with the largest drift first (then the highest Gini)."""
    members = fairness.with_columns(beyond_tolerance=beyond_tolerance().fill_null(False))
    territories = (
        members.group_by("window_days", "territory_id")
        .agg(
            territory_name=pl.col("territory_name").first(),
            members=pl.len().cast(pl.Int64),
            records=pl.col("territory_records").first().cast(pl.Int64),
            max_abs_drift=pl.col("territory_max_abs_drift_records").first(),
            gini=pl.col("territory_gini").first(),
            beyond_tolerance=pl.col("beyond_tolerance").sum().cast(pl.Int64),
            most_over=_extreme(descending=True),
            most_under=_extreme(descending=False),
        )
        .sort(["window_days", "max_abs_drift", "gini", "territory_id"],
              descending=[False, True, True, False], nulls_last=True)
    )
    return FairnessReport(territories=territories, members=members)


# ---------------------------------------------------------------- HTML


def _minutes(value: float) -> str:
    if value >= 120:
        return f"{value / 60:.1f} h"
    if value < 1:
        return f"{value * 60:.0f} s"
    return f"{value:.1f} min"


TABLE_ROWS = 500   # rows a table shows (the reps table shows every rep)
TOP_REPS = 15      # reps in each of the highest / lowest workload charts
STATUS_COLOURS = {OK: "#3b6ea5", ABOVE_RELEASE: "#e67e22", OVER_CAPACITY: "#c0392b",
                  NO_INDEX: "#b8c2cc", "on_leave": "#8e6fb5", "terminated": "#4d4d4d",
                  "deactivated": "#95a5a6", "role_change": "#a0785a",
                  "data_problem": "#d4ac0d", "not_in_hr": "#5d6d7e"}
UNAVAILABLE_COLOUR = "#7f8c8d"   # an availability this list does not know
SERIES = ("#3b6ea5", "#e67e22", "#16a085", "#8e6fb5", "#c0392b", "#7f8c8d")


def _table(frame: pl.DataFrame, table_id: str, limit: int | None = TABLE_ROWS) -> str:
    """A sortable (click a header) and filterable table; numbers right-aligned."""
    if frame.is_empty():
        return "<p class='empty'>None.</p>"
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    num_head = " class='num' data-type='num'"
    head = "".join(
        f"<th scope='col'{num_head if c in numeric else ''}>"
        f"{html.escape(c.replace('_', ' '))}</th>" for c in frame.columns)
    shown = frame if limit is None else frame.head(limit)
    cells = shown.with_columns(pl.col(pl.Float32, pl.Float64).round(2)).select(
        pl.concat_str([
            pl.format("<td{}>{}</td>", pl.lit(" class='num'" if c in numeric else ""),
                      esc(pl.col(c)))
            for c in frame.columns
        ]).alias("cells"))
    body = cells.select(pl.format("<tr>{}</tr>", "cells").str.join("")).item()
    note = (f" (the first {shown.height:,} of {frame.height:,})"
            if shown.height < frame.height else "")
    return (f"<div class='table-tools'><input type='search' class='filter' "
            f"data-table='{table_id}' placeholder='Filter rows' aria-label='Filter rows'> "
            f"<span class='count' id='{table_id}-count'>{shown.height:,} rows{note}</span>"
            f"</div><div class='table-wrap'><table class='data' id='{table_id}'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _kpis(tiles: list[tuple[str, str]], tiles_id: str) -> str:
    """Numbers as tiles: (value, what it counts)."""
    items = "".join(f"<div class='kpi'><div class='kpi-value'>{html.escape(value)}</div>"
                    f"<div class='kpi-label'>{html.escape(label)}</div></div>"
                    for value, label in tiles)
    return f"<div class='kpis' id='{tiles_id}'>{items}</div>"


def _status_colour(column: str = "status") -> pl.Expr:
    return pl.col(column).replace_strict(STATUS_COLOURS, default=UNAVAILABLE_COLOUR,
                                         return_dtype=pl.String)


def _status_legend(statuses: list[str]) -> list[tuple[str, str, str]]:
    order = [OK, ABOVE_RELEASE, OVER_CAPACITY, NO_INDEX]
    ranked = sorted(set(statuses), key=lambda s: (order.index(s) if s in order else 9, s))
    return [("box", STATUS_COLOURS.get(s, UNAVAILABLE_COLOUR), s.replace("_", " "))
            for s in ranked]


def _capacity_lines(workload: WorkloadReport) -> list[charts.RefLine]:
    return [
        charts.RefLine(workload.high_water, f"high-water mark ({workload.high_water:g}): "
                       "no new records at or above it", "#c0392b", "6 4"),
        charts.RefLine(workload.release, f"release mark ({workload.release:g}): an "
                       "overflowing rep takes records again below it", "#e67e22", "2 3"),
    ]


def _workload_charts(workload: WorkloadReport) -> dict[str, str]:
    """The histogram of every rep, the highest and lowest reps, every rep by team, and the
    fairness of each team (chart ids: workload-histogram, workload-top, workload-room,
    workload-teams, workload-fairness)."""
    lines = _capacity_lines(workload)
    x_title = "Workload index (100 = at capacity)"
    indexed = workload.per_rep.filter(pl.col("workload_index").is_not_null()).with_columns(
        label=pl.format("{} ({})", "rep_name", "team"),
        colour=_status_colour(),
        tip=pl.format("{} ({}), {}: {}", "rep_name", "team", "status",
                      pl.col("workload_index").round(1)),
    )
    out = {"histogram": charts.histogram(
        indexed["workload_index"], chart_id="workload-histogram",
        title=f"Workload index of all {indexed.height:,} reps with an index",
        x_title=x_title, y_title="Reps", lines=lines)}
    by_index = indexed.sort(["workload_index", "rep_id"], descending=[True, False])
    statuses = by_index["status"].to_list()
    if by_index.height <= 2 * TOP_REPS:
        out["top"] = charts.hbar(
            by_index, label="label", value="workload_index", chart_id="workload-top",
            title=f"Workload index of each of the {by_index.height} reps", x_title=x_title,
            y_title="Rep (team)", color="colour", tooltip="tip", lines=lines,
            legend=_status_legend(statuses), decimals=1)
    else:
        top = by_index.head(TOP_REPS)
        room = by_index.filter(pl.col("status").is_in([OK, ABOVE_RELEASE, OVER_CAPACITY])
                               ).tail(TOP_REPS).reverse()
        out["top"] = charts.hbar(
            top, label="label", value="workload_index", chart_id="workload-top",
            title=f"The {top.height} reps with the highest workload index "
                  f"(of {by_index.height:,})",
            x_title=x_title, y_title="Rep (team)", color="colour", tooltip="tip",
            lines=lines, legend=_status_legend(top["status"].to_list()), decimals=1)
        out["room"] = charts.hbar(
            room, label="label", value="workload_index", chart_id="workload-room",
            title=f"The {room.height} available reps with the most room "
                  "(lowest workload index)",
            x_title=x_title, y_title="Rep (team)", color="colour", tooltip="tip",
            lines=lines, legend=_status_legend(room["status"].to_list()), decimals=1)
    out["teams"] = charts.strip(
        indexed, group="team", value="workload_index", chart_id="workload-teams",
        title="Every rep's workload index, by team (one dot per rep)", x_title=x_title,
        y_title="Team", color="colour", tooltip="tip", lines=lines,
        legend=_status_legend(statuses))
    out["fairness"] = charts.hbar(
        workload.teams.with_columns(pl.col("gini").fill_null(0.0)), label="team",
        value="gini", chart_id="workload-fairness",
        title="Fairness of new assignments per team (Gini, 0 = even)",
        x_title="Gini coefficient of new assignments per rep (0 = even, 1 = one rep took all)",
        y_title="Team", decimals=2, x_max=1.0)
    return out


def _conflicts_per_day(conflicts: ConflictsReport) -> str:
    """One day of conflicts is a number per type (tiles), several days a stacked chart."""
    per_day = conflicts.per_day
    days = per_day["day"].drop_nulls().n_unique() if per_day.height else 0
    if days == 0:
        return "<p class='empty'>No conflicts in this window.</p>"
    if days == 1:
        day = per_day["day"].drop_nulls()[0]
        by_type = per_day.group_by("conflict_type").agg(pl.col("conflicts").sum()).sort(
            ["conflicts", "conflict_type"], descending=[True, False])
        tiles = [(f"{int(by_type['conflicts'].sum()):,}", f"conflicts on {day}")] + [
            (f"{int(n):,}", str(kind).replace("_", " ")) for kind, n in by_type.iter_rows()]
        return _kpis(tiles, "conflicts-day-tiles")
    return charts.stacked_columns(
        per_day.with_columns(pl.col("day").cast(pl.String)), category="day",
        series="conflict_type", value="conflicts", chart_id="conflicts-per-day",
        title="Conflicts per day, by type", x_title="Day (the run's as-of date)",
        y_title="Conflicts", palette=SERIES)


def _coverage_section(coverage: CoverageReport | None) -> str:
    if coverage is None:
        return ""
    return f"""<section id="coverage"><h2>Territory coverage</h2>
<p>The territory plan as the latest build matched it (not limited to the window).
{html.escape(coverage.headline())}</p>
<h3 id="coverage-overlaps">Territories overlapping at equal priority</h3>
<p>Both match these records at the records' best priority; the engine settles each by
specificity, then territory_id. Give them distinct priorities or disjoint criteria.</p>
{_table(coverage.overlaps, "table-overlaps")}
<h3 id="coverage-gaps">Records no territory matches</h3>
<p>The territory rule cannot place them; those needing an owner go to the fallback queue
unless another rule applies.</p>
{_table(coverage.gaps, "table-gaps")}
<h3 id="coverage-unstaffed">Territories without an available member</h3>
<p>Every record the territory rule gives them goes to their overflow queue.</p>
{_table(coverage.unstaffed, "table-unstaffed")}
</section>"""


FAIRNESS_TERRITORIES = 15   # territories in the largest-drift chart
DRIFT_TERRITORIES = 5       # territories whose members the drift chart shows
DRIFTED_COLOUR = "#c0392b"


def _fairness_charts(fairness: FairnessReport, days: int) -> tuple[str, str]:
    """The territories with the largest drift, and every member's drift in the most drifted
    territories (chart ids fairness-territories, fairness-members)."""
    picked = fairness.window(days).filter(pl.col("records") > 0)
    top = picked.head(FAIRNESS_TERRITORIES).with_columns(
        label=pl.col("territory_name").fill_null(pl.col("territory_id")),
        colour=pl.when(pl.col("beyond_tolerance") > 0).then(pl.lit(DRIFTED_COLOUR))
        .otherwise(pl.lit(charts.BLUE)),
        tip=pl.format("{} ({}): {} records, Gini {}, {} of {} members beyond the tolerance",
                      pl.col("territory_name").fill_null(""), "territory_id", "records",
                      charts.fixed(pl.col("gini"), 2), "beyond_tolerance", "members"),
    )
    tolerance = f"more than {DRIFT_ABSOLUTE:g} records + {DRIFT_RELATIVE:.0%} of the share"
    territories = charts.hbar(
        top, label="label", value="max_abs_drift", chart_id="fairness-territories",
        title=f"The {top.height} territories with the largest drift, last {days} days"
        if picked.height > top.height else f"Largest drift per territory, last {days} days",
        x_title="Largest |records - expected records| of a member",
        y_title="Territory", color="colour", tooltip="tip", decimals=1,
        legend=[("box", DRIFTED_COLOUR, f"a member drifted {tolerance}"),
                ("box", charts.BLUE, "within the tolerance")])
    worst = picked.head(DRIFT_TERRITORIES).select("territory_id").with_row_index("rank")
    members = (
        fairness.members.filter(pl.col("window_days") == days)
        .join(worst, on="territory_id")
        .sort(["rank", "drift_records"], descending=[False, True])
        .with_columns(
            label=pl.format("{} ({})", pl.col("rep_name").fill_null(pl.col("rep_id")),
                            pl.col("territory_name").fill_null(pl.col("territory_id"))),
            tip=pl.format("{} in {}: {} records, expected {} (weight {}, {} days available)",
                          pl.col("rep_name").fill_null(pl.col("rep_id")),
                          pl.col("territory_name").fill_null(pl.col("territory_id")),
                          "records", charts.fixed(pl.col("expected_records"), 1), "weight",
                          "available_days"),
        )
    )
    drift = charts.diverging(
        members, label="label", value="drift_records", chart_id="fairness-members",
        title=f"Each member's drift in the {worst.height} most drifted territories, last "
              f"{days} days",
        x_title="Records - expected records (weighted share of the days available)",
        y_title="Member (territory)", tooltip="tip",
        legend=[("box", "#e67e22", "more than the share"),
                ("box", charts.BLUE, "fewer than the share")])
    return territories, drift


def _fairness_section(fairness: FairnessReport | None) -> str:
    if fairness is None:
        return ""
    days, longer = FAIRNESS_WINDOWS
    territories, drift = _fairness_charts(fairness, days)
    picked = fairness.window(days).filter(pl.col("records") > 0)
    top = picked.row(0, named=True) if picked.height else None
    tiles = _kpis([
        (f"{picked.height:,}", f"territories the pick gave records to (last {days} days)"),
        (f"{fairness.drifted(days).height:,}", "with a member beyond the tolerance"),
        (f"{top['max_abs_drift']:.1f}" if top else "—", "largest drift (records)"),
        (f"{fairness.drifted(longer).height:,}",
         f"territories beyond the tolerance (last {longer} days)"),
    ], "fairness-kpis")
    beyond = fairness.members.filter(pl.col("beyond_tolerance")).sort(
        ["window_days", "drift_records"], descending=[False, True]).select(
        "window_days", "territory_id", "rep_name", "weight", "available_days", "records",
        "expected_records", "drift_records")
    return f"""<section id="fairness"><h2>Territory fairness</h2>
<p>What the territory rule's capacity pick gave each member (marts.fct_territory_fairness),
against the member's weighted share of the territory's records: weight &times; the days
the member was available in the window. Windows end at the latest build's as-of. Drift is
records minus the expected records; a member more than {DRIFT_ABSOLUTE:g} records +
{DRIFT_RELATIVE:.0%} of the expected records away is beyond the tolerance (and the dbt test
warn_territory_pick_drift warns). The pick balances workload, so a member at or above the
high-water mark drifts below the share on purpose. The Gini coefficient is that of the
members' records per weighted available day (0 = even).</p>
<p>{html.escape(fairness.headline(days))}</p>
{tiles}
{territories}
{drift}
<h3 id="fairness-week">Territories, last {days} days</h3>
{_table(fairness.window(days), "table-fairness-week")}
<h3 id="fairness-month">Territories, last {longer} days</h3>
{_table(fairness.window(longer), "table-fairness-month")}
<h3 id="fairness-beyond">Members beyond the tolerance</h3>
{_table(beyond, "table-fairness-members")}
</section>"""


def _toc(coverage: bool, fairness: bool = False) -> str:
    entries: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("summary", "Summary", []),
        ("routing", "Routing log", [("routing-rules", "Records by rule"),
                                    ("routing-conflicts", "Conflicts")]),
        ("workload", "Workload balance", [
            ("workload-histogram", "Distribution of the workload index"),
            ("workload-top", "Highest and lowest reps"),
            ("workload-teams", "Reps by team"),
            ("workload-fairness", "Fairness per team"),
            ("teams", "Teams table"), ("reps", "Reps table")]),
    ]
    if fairness:
        entries.append(("fairness", "Territory fairness", [
            ("fairness-territories", "Largest drift per territory"),
            ("fairness-members", "Members' drift"),
            ("fairness-week", f"Territories, last {FAIRNESS_WINDOWS[0]} days"),
            ("fairness-month", f"Territories, last {FAIRNESS_WINDOWS[1]} days"),
            ("fairness-beyond", "Members beyond the tolerance")]))
    entries += [
        ("conflicts", "Conflicts and rule gaps", [
            ("conflicts-day", "Conflicts per day"),
            ("conflicts-types", "Conflicts by type"),
            ("suggestions", "Suggested rule changes")]),
    ]
    if coverage:
        entries.append(("coverage", "Territory coverage", [
            ("coverage-overlaps", "Overlapping territories"),
            ("coverage-gaps", "Records no territory matches"),
            ("coverage-unstaffed", "Territories without an available member")]))
    items = "".join(
        f"<li><a href='#{target}'>{html.escape(text)}</a>"
        + ("<ol>" + "".join(f"<li><a href='#{t}'>{html.escape(x)}</a></li>" for t, x in subs)
           + "</ol>" if subs else "") + "</li>"
        for target, text, subs in entries)
    return f"<nav id='toc' aria-label='Contents'><h2>Contents</h2><ol>{items}</ol></nav>"


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #3b6ea5;padding-bottom:.2rem;margin-top:2.5rem}
.headline{font-size:1.15rem;background:#eef3f9;padding:1rem;border-radius:6px}
nav#toc{background:#f7f9fc;border:1px solid #dde4ee;border-radius:6px;padding:.2rem 1.2rem}
nav#toc h2{border:0;margin:.6rem 0 .2rem;font-size:1.1rem}nav#toc ol ol{font-size:.9rem}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.kpi{border:1px solid #dde4ee;border-radius:6px;padding:.6rem .9rem;min-width:9rem;
background:#fafcff}.kpi-value{font-size:1.6rem;font-weight:600}
.kpi-label{color:#555;font-size:.85rem}
figure.chart{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.3rem}
svg.plot{display:block;max-width:100%;height:auto;font-family:inherit}
svg.plot text{font-size:12px;fill:#333}svg.plot .axis-title{font-weight:600}
svg.plot .value{paint-order:stroke;stroke:#fff;stroke-width:3px}
svg.plot .grid{stroke:#e6e6e6}svg.plot .axis{stroke:#888}svg.plot .band{fill:#f5f7fa}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;padding:0;
margin:.2rem 0 .5rem;font-size:.85rem}ul.legend li{margin:0}
ul.legend svg{margin-right:.35rem;vertical-align:1px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:.35rem;
vertical-align:-1px;border-radius:2px}
.table-tools{margin:.8rem 0 .3rem;font-size:.9rem}.table-tools .count{color:#666}
.table-wrap{max-height:32rem;overflow:auto;margin-bottom:1rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}
th{background:#f4f4f4;position:sticky;top:0;cursor:pointer;white-space:nowrap}
th.num,td.num{text-align:right}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.empty{color:#777}li{margin:.2rem 0}
"""

# Sorts a table when a header is clicked (numbers largest first, then toggling; empty
# cells last) and filters its rows by the text typed above it.
SCRIPT = """
(function () {
  function key(cell, num) {
    var t = cell.textContent.trim();
    if (t === '' || t === '\\u2014') { return null; }
    if (!num) { return t.toLowerCase(); }
    var v = parseFloat(t.replace(/,/g, ''));
    return isNaN(v) ? null : v;
  }
  document.querySelectorAll('table.data').forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var num = th.getAttribute('data-type') === 'num';
        var now = th.getAttribute('aria-sort');
        var asc = now ? now === 'descending' : !num;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], num), y = key(b.cells[col], num);
          if (x === null) { return y === null ? 0 : 1; }
          if (y === null) { return -1; }
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); }
      });
    });
  });
  document.querySelectorAll('input.filter').forEach(function (input) {
    var id = input.getAttribute('data-table');
    var rows = document.getElementById(id).tBodies[0].rows;
    var count = document.getElementById(id + '-count');
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase(), shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var hit = !q || rows[i].textContent.toLowerCase().indexOf(q) >= 0;
        rows[i].hidden = !hit;
        if (hit) { shown++; }
      }
      count.textContent = shown + ' of ' + rows.length + ' rows';
    });
  });
})();
"""


def render_html(routing: RoutingReport, workload: WorkloadReport, conflicts: ConflictsReport,
                since: datetime, latest: datetime | None = None,
                coverage: CoverageReport | None = None,
                fairness: FairnessReport | None = None) -> str:
    """One self-contained page: charts as inline SVG (switchboard.charts), a table of
    contents, sortable and filterable tables (a small inline script); nothing to fetch.
    The coverage and territory fairness sections are included when ``coverage`` and
    ``fairness`` are given."""
    window = f"since {since:%Y-%m-%d %H:%M}" + (
        f" (latest run {latest:%Y-%m-%d %H:%M} UTC)" if latest else "")
    headline = " ".join([routing.headline(), workload.headline()]
                        + ([fairness.headline()] if fairness is not None else [])
                        + [conflicts.headline()]
                        + ([coverage.headline()] if coverage is not None else []))
    conflict_items = "".join(f"<li>{html.escape(line)}</li>" for line in routing.conflict_lines)
    routing_tiles = _kpis([
        (f"{routing.records:,}", "records routed"),
        (f"{routing.accounts:,} / {routing.leads:,}", "accounts / leads"),
        (_minutes(routing.median_minutes) if routing.median_minutes is not None else "—",
         "median time to owner (new records)"),
        (_minutes(routing.p90_minutes) if routing.p90_minutes is not None else "—",
         "p90 time to owner (new records)"),
        (f"{routing.overflow:,}", "to overflow queues"),
        (f"{routing.fallback:,}", "to the fallback queue"),
    ], "routing-kpis")
    statuses = workload.status_counts()
    workload_tiles = _kpis(
        [(f"{workload.per_rep.height:,}", "reps who carry accounts")]
        + [(f"{n:,}", status.replace("_", " ")) for status, n in statuses.items()],
        "workload-kpis")
    rules = charts.hbar(
        routing.by_rule, label="rule", value="records", chart_id="routing-rules",
        title="Records routed by rule", x_title="Records routed in the window",
        y_title="Rule")
    wl = _workload_charts(workload)
    types = charts.hbar(
        conflicts.by_type, label="conflict_type", value="conflicts", chart_id="conflicts-types",
        title="Conflicts by type", x_title="Conflicts in the window", y_title="Conflict type")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard routing report</title>
<style>{STYLE}</style></head><body>
<h1>Switchboard routing report</h1>
<p class="window">Window: {html.escape(window)}</p>
{_toc(coverage is not None, fairness is not None)}
<section id="summary"><h2>Summary</h2>
<p class="headline" id="headline">{html.escape(headline)}</p></section>
<section id="routing"><h2>Routing log</h2>
{routing_tiles}
{rules}
{_table(routing.by_rule, "table-rules")}
<h3 id="routing-conflicts">Conflicts (first {CONFLICT_LINES})</h3>
{f"<ul>{conflict_items}</ul>" if conflict_items else "<p class='empty'>None.</p>"}
</section>
<section id="workload"><h2>Workload balance</h2>
<p>High-water mark {workload.high_water:g}: at or above it a rep receives no new records until
the index falls below the release mark {workload.release:g}. A rep's status is their
availability when they take no new records (on leave, terminated, deactivated, data problem,
not in HR), else where their index stands against these marks.</p>
{workload_tiles}
{wl["histogram"]}
{wl["top"]}
{wl.get("room", "")}
{wl["teams"]}
{wl["fairness"]}
<h3 id="teams">Teams</h3>
{_table(workload.teams, "table-teams")}
<h3 id="reps">Reps</h3>
{_table(workload.per_rep, "table-reps", limit=None)}
</section>
{_fairness_section(fairness)}
<section id="conflicts"><h2>Conflicts and rule gaps</h2>
<h3 id="conflicts-day">Conflicts per day</h3>
{_conflicts_per_day(conflicts)}
{types}
<h3 id="suggestions">Suggested rule changes</h3>
{_table(conflicts.recommendations.select("type", "evidence", "recommendation"),
        "table-suggestions")}
<h3>By type</h3>
{_table(conflicts.by_type, "table-conflict-types")}
<h3>By resolution</h3>
{_table(conflicts.by_resolution, "table-resolutions")}
</section>
{_coverage_section(coverage)}
<script>{SCRIPT}</script>
</body></html>
"""


def build_all(data: ReportData, config: RoutingConfig
              ) -> tuple[RoutingReport, WorkloadReport, ConflictsReport]:
    return (
        routing_report(data.decisions, data.conflicts),
        workload_report(data.workload, data.reps, data.decisions, config),
        conflicts_report(data),
    )
