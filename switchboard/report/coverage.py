"""The territory coverage report, of the latest build's territory plan (no window):
territories overlapping at equal priority, records no territory matches, and territories
nobody available works."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from switchboard.report.data import ReportData

GAP_EXAMPLES = 3


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
            return (
                "Every record matches a territory, no territories overlap at equal "
                "priority and every territory has an available member."
            )
        overlapping = int(self.overlaps["records"].sum()) if self.overlaps.height else 0
        return (
            f"{self.overlaps.height} territory pairs overlap at equal priority "
            f"({overlapping} records); {self.gap_records} records match no territory "
            f"({self.gap_needing_owner} of them need an owner); {self.unstaffed.height} "
            "territories have no available member."
        )


OVERLAP_SCHEMA: dict[str, pl.DataType] = {
    "territory_a": pl.String(),
    "territory_a_name": pl.String(),
    "territory_b": pl.String(),
    "territory_b_name": pl.String(),
    "priority": pl.Int64(),
    "records": pl.Int64(),
    "accounts": pl.Int64(),
    "leads": pl.Int64(),
}


def equal_priority_overlaps(matches: pl.DataFrame, territories: pl.DataFrame) -> pl.DataFrame:
    """Territory pairs that both match a record on its own attributes at the record's best
    (lowest) priority, so the engine settles the tie by specificity and territory_id; with
    how many records (accounts, leads) each pair shares."""
    own = matches.filter(pl.col("match_source") == "record").select(
        "record_type", "record_id", "territory_id", "priority"
    )
    best = own.filter(
        pl.col("priority") == pl.col("priority").min().over("record_type", "record_id")
    ).unique()
    pairs = best.join(
        best.select("record_type", "record_id", territory_b="territory_id"),
        on=["record_type", "record_id"],
    ).filter(pl.col("territory_id") < pl.col("territory_b"))
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
        .join(
            names.rename({"territory_id": "territory_a", "territory_name": "territory_a_name"}),
            on="territory_a",
            how="left",
        )
        .join(
            names.rename({"territory_id": "territory_b", "territory_name": "territory_b_name"}),
            on="territory_b",
            how="left",
        )
        .select(list(OVERLAP_SCHEMA))
        .cast(OVERLAP_SCHEMA)  # type: ignore[arg-type]
        .sort(["records", "territory_a", "territory_b"], descending=[True, False, False])
    )


GAP_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "country": pl.String(),
    "records": pl.Int64(),
    "needing_owner": pl.Int64(),
    "examples": pl.String(),
}


def territory_gaps(
    matches: pl.DataFrame, accounts: pl.DataFrame, leads: pl.DataFrame, reps: pl.DataFrame
) -> pl.DataFrame:
    """Records no territory matches (on their own attributes, nor a lead through its
    account), by record type and country: how many, how many need an owner (unowned or an
    owner who is not a valid owner) and a few examples.

    A record's segment is that of its best territory, so records in a gap have none: they
    are grouped by country only."""
    valid = reps.filter(pl.col("is_valid_owner").fill_null(False)).get_column("rep_id")
    records = pl.concat(
        [
            accounts.select(
                record_type=pl.lit("account"),
                record_id="account_id",
                name="account_name",
                country_code="country_code",
                needs_owner=~pl.col("has_valid_owner").fill_null(False),
            ),
            leads.select(
                record_type=pl.lit("lead"),
                record_id="lead_id",
                name="email",
                country_code="country_code",
                needs_owner=~pl.col("owner_id").is_in(valid.implode()).fill_null(False),
            ),
        ],
        how="vertical_relaxed",
    )
    matched = matches.select("record_type", "record_id").unique()
    unmatched = records.join(matched, on=["record_type", "record_id"], how="anti")
    if unmatched.is_empty():
        return pl.DataFrame(schema=GAP_SCHEMA)
    example = (
        pl.when(pl.col("name").is_not_null())
        .then(pl.format("{} ({})", "record_id", "name"))
        .otherwise(pl.col("record_id"))
    )
    return (
        unmatched.with_columns(
            country=pl.col("country_code").fill_null("unknown country"), example=example
        )
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
    "territory_id": pl.String(),
    "territory_name": pl.String(),
    "overflow_queue": pl.String(),
    "matched_records": pl.Int64(),
    "member_count": pl.Int64(),
    "members": pl.String(),
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
        members=pl.format("{} ({})", "rep_id", pl.col("rep_availability").fill_null("unknown"))
        .sort()
        .str.join(", "),
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
        unstaffed=territories_without_available_member(
            plan.territories, plan.members, plan.matches
        ),
    )
