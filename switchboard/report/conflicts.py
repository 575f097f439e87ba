"""The conflicts report: routing conflicts by type, resolution and day, and the rule
changes the routing log argues for (rule gaps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from switchboard.report.data import ReportData

TOP_GROUPS = 5


@dataclass(frozen=True)
class ConflictsReport:
    by_type: pl.DataFrame  # conflict_type, conflicts
    by_resolution: pl.DataFrame  # resolution, conflicts
    per_day: pl.DataFrame  # day, conflict_type, conflicts
    recommendations: pl.DataFrame  # type, evidence, subject, recommendation

    def headline(self) -> str:
        total = int(self.by_type["conflicts"].sum()) if self.by_type.height else 0
        if not total:
            return "No routing conflicts in this window."
        top = self.by_type.row(0, named=True)
        return (
            f"{total} conflicts, most often {top['conflict_type']} ({top['conflicts']}); "
            f"{self.recommendations.height} rule changes suggested."
        )


RECOMMENDATION_SCHEMA: dict[str, pl.DataType] = {
    "type": pl.String(),
    "evidence": pl.Int64(),
    "subject": pl.String(),
    "recommendation": pl.String(),
}


def _account_of_record(records: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """record_type/record_id → account_id (a lead's matched account)."""
    lead_accounts = leads.select(
        pl.col("lead_id").alias("record_id"), pl.col("matched_account_id").alias("lead_account_id")
    )
    return (
        records.join(lead_accounts, on="record_id", how="left")
        .with_columns(
            account_id=pl.when(pl.col("record_type") == "account")
            .then(pl.col("record_id"))
            .otherwise(pl.col("lead_account_id"))
        )
        .drop("lead_account_id")
    )


def _named_subsidiary_gaps(
    conflicts: pl.DataFrame,
    accounts: pl.DataFrame,
    leads: pl.DataFrame,
    named: pl.DataFrame,
    since: str,
) -> pl.DataFrame:
    subs = conflicts.filter(pl.col("conflict_type") == "named_subsidiary").select(
        "record_type", "record_id"
    )
    if subs.is_empty():
        return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
    named_ids = named.get_column("account_id").implode()
    parents = (
        _account_of_record(subs, leads)
        .join(
            accounts.select("account_id", "parent_account_id", "ultimate_parent_account_id"),
            on="account_id",
            how="left",
        )
        .with_columns(
            parent=pl.coalesce(
                pl.when(pl.col("parent_account_id").is_in(named_ids)).then(
                    pl.col("parent_account_id")
                ),
                pl.when(pl.col("ultimate_parent_account_id").is_in(named_ids)).then(
                    pl.col("ultimate_parent_account_id")
                ),
                "ultimate_parent_account_id",
                "parent_account_id",
                pl.lit("(unknown parent)"),
            )
        )
        .group_by("parent")
        .agg(n=pl.len())
        .join(
            accounts.select(pl.col("account_id").alias("parent"), "account_name"),
            on="parent",
            how="left",
        )
        .with_columns(
            label=pl.when(pl.col("account_name").is_not_null())
            .then(pl.format("{} ({})", "parent", "account_name"))
            .otherwise(pl.col("parent"))
        )
        .sort(["n", "parent"], descending=[True, False])
    )
    return parents.select(
        type=pl.lit("named_subsidiary"),
        evidence=pl.col("n").sum().cast(pl.Int64),
        subject=pl.col("parent").head(TOP_GROUPS).str.join(", "),
        recommendation=pl.format(
            "{} named-subsidiary conflicts since {}: add a subsidiary-of-named-account rule "
            "for parents {}",
            pl.col("n").sum(),
            pl.lit(since),
            pl.col("label").head(TOP_GROUPS).str.join(", "),
        ),
    )


def _fallback_gaps(
    decisions: pl.DataFrame, accounts: pl.DataFrame, leads: pl.DataFrame, since: str
) -> pl.DataFrame:
    fallback = decisions.filter(pl.col("rule") == "fallback_queue").select(
        "record_type", "record_id"
    )
    if fallback.is_empty():
        return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
    acc = accounts.select(
        pl.col("account_id").alias("record_id"),
        pl.col("country_code").alias("acc_country"),
        pl.col("segment").alias("acc_segment"),
    )
    led = leads.select(
        pl.col("lead_id").alias("record_id"), pl.col("country_code").alias("lead_country")
    )
    groups = (
        fallback.join(acc, on="record_id", how="left")
        .join(led, on="record_id", how="left")
        .with_columns(
            country=pl.when(pl.col("record_type") == "account")
            .then(pl.col("acc_country"))
            .otherwise(pl.col("lead_country"))
            .fill_null("unknown country"),
            segment=pl.when(pl.col("record_type") == "account")
            .then(pl.col("acc_segment"))
            .otherwise(None)
            .fill_null("any segment"),
        )
        .group_by("country", "segment")
        .agg(n=pl.len())
        .sort(["n", "country", "segment"], descending=[True, False, False])
        .head(TOP_GROUPS)
    )
    return groups.select(
        type=pl.lit("fallback_queue"),
        evidence=pl.col("n").cast(pl.Int64),
        subject=pl.format("{} / {}", "country", "segment"),
        recommendation=pl.format(
            "{} records fell to the fallback queue since {} from {} ({}): add or widen a "
            "territory covering them",
            "n",
            pl.lit(since),
            "country",
            "segment",
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
            .list.drop_nulls()
            .list.unique()
            .list.sort()
        )
        .filter(pl.col("territories").list.len() >= 2)
        .with_columns(pair=pl.col("territories").list.join(" and "))
        .group_by("pair")
        .agg(n=pl.len())
        .sort(["n", "pair"], descending=[True, False])
        .head(TOP_GROUPS)
    )
    return pairs.select(
        type=pl.lit("multi_territory"),
        evidence=pl.col("n").cast(pl.Int64),
        subject=pl.col("pair"),
        recommendation=pl.format(
            "{} multi-territory conflicts since {} between {}: give these territories distinct "
            "priorities or non-overlapping criteria",
            "n",
            pl.lit(since),
            "pair",
        ),
    )


def rule_gaps(
    conflicts: pl.DataFrame,
    decisions: pl.DataFrame,
    accounts: pl.DataFrame,
    leads: pl.DataFrame,
    named_accounts: pl.DataFrame,
    since: datetime,
) -> pl.DataFrame:
    """Rule changes the routing log argues for: type, evidence (count), subject, text."""
    day = f"{since:%Y-%m-%d}"
    return pl.concat(
        [
            _named_subsidiary_gaps(conflicts, accounts, leads, named_accounts, day),
            _fallback_gaps(decisions, accounts, leads, day),
            _multi_territory_gaps(conflicts, day),
        ],
        how="vertical_relaxed",
    ).sort("evidence", descending=True, maintain_order=True)


def conflicts_report(data: ReportData) -> ConflictsReport:
    c = data.conflicts
    by_type = (
        c.group_by("conflict_type")
        .agg(conflicts=pl.len())
        .sort(["conflicts", "conflict_type"], descending=[True, False])
    )
    by_resolution = (
        c.group_by("resolution")
        .agg(conflicts=pl.len())
        .sort(["conflicts", "resolution"], descending=[True, False])
    )
    per_day = (
        c.group_by("day", "conflict_type").agg(conflicts=pl.len()).sort("day", "conflict_type")
        if "day" in c.columns
        else pl.DataFrame(
            schema={"day": pl.Date(), "conflict_type": pl.String(), "conflicts": pl.UInt32()}
        )
    )
    recs = rule_gaps(c, data.decisions, data.accounts, data.leads, data.named_accounts, data.since)
    return ConflictsReport(
        by_type=by_type, by_resolution=by_resolution, per_day=per_day, recommendations=recs
    )
