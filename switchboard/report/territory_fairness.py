"""The territory fairness report (marts.fct_territory_fairness): per territory and window,
how far the capacity pick's records drifted from each member's weighted share of the
available days, and who is beyond the tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from switchboard import charts

# How far a member's records may drift from the weighted expected share before the
# warn-level dbt test warn_territory_pick_drift (dbt_project/models/marts/_marts__models.yml)
# fires: 2 records plus 10% of the expected records.
DRIFT_ABSOLUTE = 2.0
DRIFT_RELATIVE = 0.1
FAIRNESS_WINDOWS = (7, 30)


def beyond_tolerance() -> pl.Expr:
    """A member whose |drift_records| exceeds 2 records + 10% of expected_records."""
    return (
        pl.col("drift_records").abs()
        > DRIFT_ABSOLUTE + DRIFT_RELATIVE * pl.col("expected_records").abs()
    )


def _signed(column: str) -> pl.Expr:
    """A drift as text with its sign and one decimal: +3.0, -2.5, 0.0."""
    value = pl.col(column)
    return (
        pl.when(value > 0)
        .then(pl.format("+{}", charts.fixed(value, 1)))
        .otherwise(charts.fixed(value, 1))
    )


def _extreme(descending: bool) -> pl.Expr:
    """The member furthest over (descending) or under the share, as `name (+drift)`; null
    when nobody is on that side."""
    side = pl.col("drift_records") > 0 if descending else pl.col("drift_records") < 0
    named = pl.format(
        "{} ({})", pl.col("rep_name").fill_null(pl.col("rep_id")), _signed("drift_records")
    )
    return (
        named.filter(side)
        .sort_by(pl.col("drift_records").filter(side), descending=descending)
        .first()
    )


@dataclass(frozen=True)
class FairnessReport:
    territories: pl.DataFrame  # per window and territory, worst first: window_days,
    #                            territory_id, territory_name, members, records,
    #                            max_abs_drift, gini, beyond_tolerance, most_over, most_under
    members: pl.DataFrame  # every member row of the mart, with beyond_tolerance

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
        text = (
            f"Territory fairness, last {days} days: {drifted.height} of {picked.height} "
            "territories the pick gave records to have a member off the weighted share by "
            f"more than {DRIFT_ABSOLUTE:g} records + {DRIFT_RELATIVE:.0%}."
        )
        worst = picked.row(0, named=True)
        if worst["max_abs_drift"]:
            text += (
                f" Most drifted: {worst['territory_name'] or worst['territory_id']} "
                f"(max drift {worst['max_abs_drift']:.1f} records, Gini "
                f"{worst['gini']:.2f})."
            )
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
        .sort(
            ["window_days", "max_abs_drift", "gini", "territory_id"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
    )
    return FairnessReport(territories=territories, members=members)
