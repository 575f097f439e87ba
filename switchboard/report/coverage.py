"""The territory coverage report, of the latest build's territory plan (no window):
territories overlapping at equal priority, records no territory matches, and territories
nobody available works. The dbt marts fct_territory_overlaps, fct_territory_coverage_gaps
and fct_unstaffed_territories compute them (the warn tests read the same marts); this
module only words them."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from switchboard.report.data import ReportData


@dataclass(frozen=True)
class CoverageReport:
    # territory_a, territory_a_name, territory_b, territory_b_name, priority, records,
    # accounts, leads: pairs that both match a record at its best (lowest) priority
    overlaps: pl.DataFrame
    # record_type, country, records, needing_owner, examples (up to three record ids):
    # records no territory matches
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


def coverage_report(data: ReportData) -> CoverageReport:
    """Equal-priority overlaps, gaps and unstaffed territories of the latest build."""
    plan = data.coverage
    if plan is None:
        raise ValueError("the coverage report needs ReportData loaded with coverage=True")
    return CoverageReport(overlaps=plan.overlaps, gaps=plan.gaps, unstaffed=plan.unstaffed)
