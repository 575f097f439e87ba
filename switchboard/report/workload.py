"""The workload balance report: each rep's index against the high-water and release
marks, each rep's status (availability first), and how evenly each team received new
records (spread and Gini)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from switchboard.config import RoutingConfig


def gini(column: str) -> pl.Expr:
    """Gini coefficient of ``column`` inside a group (0 = equal, →1 = one takes all).

    G = 2·Σ i·x₍ᵢ₎ / (n·Σx) - (n+1)/n over the values sorted ascending; 0 when Σx = 0.
    """
    x = pl.col(column).cast(pl.Float64)
    n = pl.len().cast(pl.Float64)
    rank = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).cast(pl.Float64)
    weighted = (x.sort() * rank).sum()
    return pl.when(x.sum() > 0).then(2 * weighted / (n * x.sum()) - (n + 1) / n).otherwise(0.0)


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
OVER_CAPACITY = "over capacity"  # index at or above workload.high_water: skipped
ABOVE_RELEASE = "above release"  # between release and high water: skipped while flagged
OK = "ok"
NO_INDEX = "no index"  # no fct_rep_workload row for the rep
AVAILABLE = "available"


@dataclass(frozen=True)
class WorkloadReport:
    per_rep: pl.DataFrame  # team, rep_id, rep_name, workload_index, status, days_over_high_water,
    #                         new_assignments, territory_records, overflow_records
    teams: pl.DataFrame  # team, reps, avg_index, over_high_water, unavailable,
    #                         new_assignments, spread, gini
    high_water: float
    release: float

    def status_counts(self) -> dict[str, int]:
        """Reps per status, largest first."""
        counts = (
            self.per_rep.group_by("status")
            .agg(reps=pl.len())
            .sort(["reps", "status"], descending=[True, False])
        )
        return {str(k): int(v) for k, v in counts.iter_rows()}

    def headline(self) -> str:
        counts = self.status_counts()
        over = counts.get(OVER_CAPACITY, 0)
        away = {
            k: v for k, v in counts.items() if k not in (OVER_CAPACITY, ABOVE_RELEASE, OK, NO_INDEX)
        }
        text = (
            f"{over} of {self.per_rep.height} reps are over capacity (index at or above "
            f"the high-water mark, {self.high_water:g})."
        )
        if away:
            listed = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in away.items())
            text += f" {sum(away.values())} take no new records ({listed})."
        worst = self.teams.sort("gini", descending=True, nulls_last=True).head(1)
        if worst.height and worst["new_assignments"][0]:
            row = worst.row(0, named=True)
            text += (
                f" Least even team: {row['team']} (Gini {row['gini']:.2f}, spread "
                f"{row['spread']} new records)."
            )
        return text


def rep_status(high_water: float, release: float) -> pl.Expr:
    """The status of a rep from columns availability and workload_index: the availability
    when the rep is not available (on_leave, terminated, deactivated, role_change,
    data_problem, not_in_hr), else over capacity, above release, ok or no index."""
    index = pl.col("workload_index")
    availability = pl.col("availability").fill_null(AVAILABLE)
    return (
        pl.when(availability != AVAILABLE)
        .then(availability)
        .when(index.is_null())
        .then(pl.lit(NO_INDEX))
        .when(index >= high_water)
        .then(pl.lit(OVER_CAPACITY))
        .when(index >= release)
        .then(pl.lit(ABOVE_RELEASE))
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
    days = (
        pl.col("days_over_high_water")
        if "days_over_high_water" in workload.columns
        else pl.lit(None, pl.Int64)
    )
    index = workload.select("rep_id", "workload_index", days.alias("days_over_high_water"))
    per_rep = (
        reps.select("rep_id", "rep_name", pl.col("team").fill_null("(no team)"), "availability")
        .join(index, on="rep_id", how="left")
        .join(received, on="rep_id", how="left")
        .with_columns(
            pl.col("new_assignments", "territory_records", "overflow_records")
            .fill_null(0)
            .cast(pl.Int64)
        )
        .with_columns(status=rep_status(hw, rel))
        .sort(["team", "workload_index"], descending=[False, True], nulls_last=True)
    )
    teams = (
        per_rep.group_by("team")
        .agg(
            avg_index=pl.col("workload_index").mean(),
            over_high_water=(pl.col("workload_index") >= hw).sum(),
            unavailable=(pl.col("availability").fill_null(AVAILABLE) != AVAILABLE).sum(),
        )
        .join(fairness(per_rep), on="team")
        .select(
            "team",
            "reps",
            "avg_index",
            "over_high_water",
            "unavailable",
            "new_assignments",
            "spread",
            "gini",
        )
        .sort("team")
    )
    per_rep = per_rep.select(
        "team",
        "rep_id",
        "rep_name",
        "workload_index",
        "status",
        "days_over_high_water",
        "new_assignments",
        "territory_records",
        "overflow_records",
    )
    return WorkloadReport(per_rep=per_rep, teams=teams, high_water=hw, release=rel)
