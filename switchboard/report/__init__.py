"""`switchboard report`: the routing log, workload balance, conflict and coverage reports.

``load`` does a handful of small read-only SQL reads; every report is a pure function over
those frames, and ``render_html`` turns the reports into one self-contained page. The
coverage report describes the latest build's territory plan (no window): equal-priority
overlaps, records no territory matches, and territories nobody available works.

The modules: `data` (the reads), one per report (`routing`, `workload`,
`territory_fairness`, `conflicts`, `coverage`), and the HTML: `sections` (tables, tiles
and charts of each report) and `page` (the page around them).
"""

from __future__ import annotations

from switchboard.config import RoutingConfig
from switchboard.report.conflicts import ConflictsReport, conflicts_report
from switchboard.report.coverage import CoverageReport, coverage_report
from switchboard.report.data import CoverageData, ReportData, load
from switchboard.report.page import render_html
from switchboard.report.routing import RoutingReport, routing_report
from switchboard.report.territory_fairness import FAIRNESS_WINDOWS, FairnessReport, fairness_report
from switchboard.report.workload import WorkloadReport, workload_report

__all__ = [
    "FAIRNESS_WINDOWS",
    "ConflictsReport",
    "CoverageData",
    "CoverageReport",
    "FairnessReport",
    "ReportData",
    "RoutingReport",
    "WorkloadReport",
    "build_all",
    "conflicts_report",
    "coverage_report",
    "fairness_report",
    "load",
    "render_html",
    "routing_report",
    "workload_report",
]


def build_all(
    data: ReportData, config: RoutingConfig
) -> tuple[RoutingReport, WorkloadReport, ConflictsReport]:
    return (
        routing_report(data.decisions, data.conflicts),
        workload_report(data.workload, data.reps, data.decisions, config),
        conflicts_report(data),
    )
