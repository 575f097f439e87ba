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

from switchboard import warehouse
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
    decisions: pl.DataFrame      # routing.decisions in the window
    conflicts: pl.DataFrame      # routing.conflicts in the window, plus day (run as-of date)
    workload: pl.DataFrame       # latest marts.fct_rep_workload row per rep
    reps: pl.DataFrame           # rep_id, rep_name, team, carries_accounts (+ availability,
    #                              is_valid_owner)
    accounts: pl.DataFrame       # account_id, account_name, parent ids, country_code, segment
    #                              (+ owner_id, has_valid_owner)
    leads: pl.DataFrame          # lead_id, matched_account_id, country_code (+ email, owner_id)
    named_accounts: pl.DataFrame  # account_id
    # The coverage report's frames (latest build, no window); None when not loaded.
    coverage: CoverageData | None = field(default=None)


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
            con, "select * from routing.decisions where decided_at >= ?", [start])
        conflicts = warehouse.query(
            con,
            "select c.*, cast(r.as_of as date) as day from routing.conflicts c "
            "join routing.runs r using (run_id) where r.as_of >= ?",
            [start],
        )
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
    finally:
        con.close()
    return ReportData(since=start, latest=latest, decisions=decisions, conflicts=conflicts,
                      workload=workload, reps=reps, accounts=accounts, leads=leads,
                      named_accounts=named, coverage=plan)


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


@dataclass(frozen=True)
class WorkloadReport:
    per_rep: pl.DataFrame   # team, rep_id, rep_name, workload_index, status, days_over_high_water,
    #                         new_assignments, territory_records, overflow_records
    teams: pl.DataFrame     # team, reps, avg_index, over_high_water, new_assignments, spread, gini
    high_water: float
    release: float

    def headline(self) -> str:
        over = self.per_rep.filter(pl.col("status") == "over high water").height
        worst = self.teams.sort("gini", descending=True, nulls_last=True).head(1)
        text = (f"{over} of {self.per_rep.height} reps are at or above the high-water mark "
                f"({self.high_water:g}).")
        if worst.height and worst["new_assignments"][0]:
            row = worst.row(0, named=True)
            text += (f" Least even team: {row['team']} (Gini {row['gini']:.2f}, spread "
                     f"{row['spread']} new records).")
        return text


def workload_report(
    workload: pl.DataFrame, reps: pl.DataFrame, decisions: pl.DataFrame, config: RoutingConfig
) -> WorkloadReport:
    """Index per rep against the high-water/release lines, and how evenly teams received."""
    hw, rel = config.workload.high_water, config.workload.release
    if "carries_accounts" in reps.columns:
        reps = reps.filter(pl.col("carries_accounts").fill_null(False))
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
        reps.select("rep_id", "rep_name", pl.col("team").fill_null("(no team)"))
        .join(index, on="rep_id", how="left")
        .join(received, on="rep_id", how="left")
        .with_columns(pl.col("new_assignments", "territory_records", "overflow_records")
                      .fill_null(0).cast(pl.Int64))
        .with_columns(
            status=pl.when(pl.col("workload_index") >= hw).then(pl.lit("over high water"))
            .when(pl.col("workload_index") >= rel).then(pl.lit("above release"))
            .when(pl.col("workload_index").is_null()).then(pl.lit("no index"))
            .otherwise(pl.lit("ok"))
        )
        .select("team", "rep_id", "rep_name", "workload_index", "status",
                "days_over_high_water", "new_assignments", "territory_records",
                "overflow_records")
        .sort(["team", "workload_index"], descending=[False, True], nulls_last=True)
    )
    teams = per_rep.group_by("team").agg(
        avg_index=pl.col("workload_index").mean(),
        over_high_water=(pl.col("workload_index") >= hw).sum(),
    ).join(fairness(per_rep), on="team").select(
        "team", "reps", "avg_index", "over_high_water", "new_assignments", "spread", "gini"
    ).sort("team")
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


# ---------------------------------------------------------------- HTML


def _minutes(value: float) -> str:
    if value >= 120:
        return f"{value / 60:.1f} h"
    if value < 1:
        return f"{value * 60:.0f} s"
    return f"{value:.1f} min"


def _table(frame: pl.DataFrame, limit: int = 200) -> str:
    if frame.is_empty():
        return "<p class='empty'>None.</p>"
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in frame.columns)
    shown = frame.head(limit).with_columns(
        pl.col(pl.Float32, pl.Float64).round(2)).cast(pl.String).fill_null("—")
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in shown.iter_rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figures(routing: RoutingReport, workload: WorkloadReport, conflicts: ConflictsReport
             ) -> list[tuple[str, object]]:
    import plotly.graph_objects as go

    figs: list[tuple[str, object]] = []
    rules = go.Figure(go.Bar(x=routing.by_rule["rule"].to_list(),
                             y=routing.by_rule["records"].to_list(), marker_color="#3b6ea5"))
    rules.update_layout(title="Records routed by rule", height=360)
    figs.append(("routing", rules))
    reps = workload.per_rep.filter(pl.col("workload_index").is_not_null())
    index = go.Figure(go.Bar(
        x=reps["rep_name"].to_list(), y=reps["workload_index"].to_list(),
        marker_color=["#c0392b" if s == "over high water" else "#3b6ea5"
                      for s in reps["status"].to_list()],
        text=reps["team"].to_list(), hovertemplate="%{x} (%{text}): %{y:.0f}<extra></extra>",
    ))
    index.add_hline(y=workload.high_water, line_dash="dash", line_color="#c0392b",
                    annotation_text="high water")
    index.add_hline(y=workload.release, line_dash="dot", line_color="#e67e22",
                    annotation_text="release")
    index.update_layout(title="Workload index per rep", height=420)
    figs.append(("workload", index))
    teams = go.Figure(go.Bar(x=workload.teams["team"].to_list(),
                             y=workload.teams["gini"].to_list(), marker_color="#16a085"))
    teams.update_layout(title="Fairness of new assignments per team (Gini, 0 = even)",
                        height=360, yaxis_range=[0, 1])
    figs.append(("workload", teams))
    per_day = go.Figure()
    for (kind,), part in conflicts.per_day.group_by("conflict_type", maintain_order=True):
        per_day.add_trace(go.Bar(name=str(kind), x=[str(d) for d in part["day"].to_list()],
                                 y=part["conflicts"].to_list()))
    per_day.update_layout(title="Conflicts per day", barmode="stack", height=360)
    figs.append(("conflicts", per_day))
    return figs


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #3b6ea5;padding-bottom:.2rem;margin-top:2.5rem}
.headline{font-size:1.15rem;background:#eef3f9;padding:1rem;border-radius:6px}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}th{background:#f4f4f4}
.empty{color:#777}li{margin:.2rem 0}
"""


def _coverage_section(coverage: CoverageReport | None) -> str:
    if coverage is None:
        return ""
    return f"""<h2>Territory coverage</h2>
<p>The territory plan as the latest build matched it (not limited to the window).
{html.escape(coverage.headline())}</p>
<h3>Territories overlapping at equal priority</h3>
<p>Both match these records at the records' best priority; the engine settles each by
specificity, then territory_id. Give them distinct priorities or disjoint criteria.</p>
{_table(coverage.overlaps)}
<h3>Records no territory matches</h3>
<p>The territory rule cannot place them; those needing an owner go to the fallback queue
unless another rule applies.</p>
{_table(coverage.gaps)}
<h3>Territories without an available member</h3>
<p>Every record the territory rule gives them goes to their overflow queue.</p>
{_table(coverage.unstaffed)}
"""


def render_html(routing: RoutingReport, workload: WorkloadReport, conflicts: ConflictsReport,
                since: datetime, latest: datetime | None = None,
                coverage: CoverageReport | None = None) -> str:
    """One self-contained page (plotly.js inlined once; opens offline). The coverage
    section is included when ``coverage`` is given."""
    figs = _figures(routing, workload, conflicts)
    charts: dict[str, list[str]] = {"routing": [], "workload": [], "conflicts": []}
    for i, (section, fig) in enumerate(figs):
        charts[section].append(fig.to_html(  # type: ignore[attr-defined]
            full_html=False, include_plotlyjs=(i == 0), div_id=f"chart-{i}",
            config={"displaylogo": False, "responsive": True},
        ))
    window = f"since {since:%Y-%m-%d %H:%M}" + (
        f" (latest run {latest:%Y-%m-%d %H:%M} UTC)" if latest else "")
    headline = " ".join([routing.headline(), workload.headline(), conflicts.headline()]
                        + ([coverage.headline()] if coverage is not None else []))
    conflict_items = "".join(f"<li>{html.escape(line)}</li>" for line in routing.conflict_lines)
    stats = pl.DataFrame({
        "measure": ["records routed", "median time to owner (new)", "p90 time to owner (new)",
                    "to overflow queues", "to the fallback queue"],
        "value": [str(routing.records),
                  _minutes(routing.median_minutes) if routing.median_minutes is not None
                  else "—",
                  _minutes(routing.p90_minutes) if routing.p90_minutes is not None else "—",
                  str(routing.overflow), str(routing.fallback)],
    })
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard routing report</title>
<style>{STYLE}</style></head><body>
<h1>Switchboard routing report</h1>
<p class="window">Window: {html.escape(window)}</p>
<p class="headline" id="headline">{html.escape(headline)}</p>
<h2>Routing log</h2>
{_table(stats)}
{"".join(charts["routing"])}
{_table(routing.by_rule)}
<h3>Conflicts (first {CONFLICT_LINES})</h3>
{f"<ul>{conflict_items}</ul>" if conflict_items else "<p class='empty'>None.</p>"}
<h2>Workload balance</h2>
<p>High-water mark {workload.high_water:g}: at or above it a rep receives no new records until
the index falls below the release mark {workload.release:g}.</p>
{"".join(charts["workload"])}
<h3>Teams</h3>
{_table(workload.teams)}
<h3>Reps</h3>
{_table(workload.per_rep)}
<h2>Conflicts and rule gaps</h2>
{"".join(charts["conflicts"])}
<h3>Suggested rule changes</h3>
{_table(conflicts.recommendations.select("type", "evidence", "recommendation"))}
<h3>By type</h3>
{_table(conflicts.by_type)}
<h3>By resolution</h3>
{_table(conflicts.by_resolution)}
{_coverage_section(coverage)}
</body></html>
"""


def build_all(data: ReportData, config: RoutingConfig
              ) -> tuple[RoutingReport, WorkloadReport, ConflictsReport]:
    return (
        routing_report(data.decisions, data.conflicts),
        workload_report(data.workload, data.reps, data.decisions, config),
        conflicts_report(data),
    )
