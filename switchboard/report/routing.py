"""The routing log report: what was routed in the window, how fast new records got an
owner, by which rule, and the first conflicts."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from switchboard.rules import RULE_LABELS
from switchboard.summary import NEW_RECORD_SECONDS

CONFLICT_LINES = 20


@dataclass(frozen=True)
class RoutingReport:
    records: int
    accounts: int
    leads: int
    median_minutes: float | None
    p90_minutes: float | None
    by_rule: pl.DataFrame  # rule, records, meaning
    overflow: int
    fallback: int
    conflict_lines: list[str]

    def headline(self) -> str:
        if self.records == 0:
            return "Nothing was routed in this window."
        parts = [f"{self.records} records routed ({self.accounts} accounts, {self.leads} leads)."]
        if self.median_minutes is not None and self.p90_minutes is not None:
            parts.append(
                f"New records got an owner in {minutes(self.median_minutes)} "
                f"(median; p90 {minutes(self.p90_minutes)})."
            )
        parts.append(f"{self.overflow} went to overflow and {self.fallback} to the fallback queue.")
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
        decisions.group_by("rule")
        .agg(records=pl.len())
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
        .select(
            pl.format(
                "{} {} ({}): {}",
                "record_type",
                "record_id",
                "conflict_type",
                pl.col("rationale").fill_null(""),
            )
        )
        .to_series()
        .to_list()
        if conflicts.height
        else []
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


def minutes(value: float) -> str:
    """A time in minutes as the report shows it: seconds below one, hours from two."""
    if value >= 120:
        return f"{value / 60:.1f} h"
    if value < 1:
        return f"{value * 60:.0f} s"
    return f"{value:.1f} min"
