"""Commands that read what runs left: report, whatif, docs, and their printers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from switchboard.cli.options import (
    AllowBackdated,
    AsOf,
    ConfigOpt,
    MappingOpt,
    Snapshot,
    Wait,
    Warehouse,
    WhatIfDir,
    _config_option,
    _file_options,
    _mapping_arg,
    _snapshot_option,
    _time_option,
)
from switchboard.cli.running import EXIT_INPUT, _fail, _frame_table, _guarded, _run_flow, console

REPORT_KINDS = ("routing", "workload", "conflicts", "coverage")
ReportKind = Annotated[str, typer.Argument(help="routing, workload, conflicts or coverage.")]


def report(
    kind: ReportKind,
    since: Annotated[
        str | None,
        typer.Option(
            help="ISO date/time the window starts (default: 7 days before the latest run)."
        ),
    ] = None,
    html_file: Annotated[
        Path | None,
        typer.Option("--html", help="Also write all four reports as one self-contained HTML page."),
    ] = None,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    config: ConfigOpt = None,
) -> None:
    """Print the routing log, workload balance, conflict or territory coverage report."""
    _time_option(since, "--since")
    _config_option(config)
    from switchboard import report as rp
    from switchboard.config import load_config
    from switchboard.pipeline.context import parse_as_of

    if kind not in REPORT_KINDS:
        _fail(f"report must be one of: {', '.join(REPORT_KINDS)}", EXIT_INPUT)

    def body() -> None:
        with_coverage = kind == "coverage" or html_file is not None
        data = rp.load(warehouse, parse_as_of(since) if since else None, coverage=with_coverage)
        routing, workload, conflicts = rp.build_all(data, load_config(config))
        coverage = rp.coverage_report(data) if with_coverage else None
        fairness = rp.fairness_report(data.fairness) if data.fairness is not None else None
        if kind == "coverage":
            console.print("[dim]territory plan of the latest build (no window)[/]", highlight=False)
        else:
            console.print(f"[dim]window: since {data.since:%Y-%m-%d %H:%M}[/]", highlight=False)
        if kind == "routing":
            _print_routing_report(routing)
        elif kind == "workload":
            _print_workload_report(workload)
            if fairness is not None:
                _print_fairness_report(fairness)
        elif kind == "conflicts":
            _print_conflicts_report(conflicts)
        else:
            _print_coverage_report(coverage)
        if html_file is not None:
            html_file.parent.mkdir(parents=True, exist_ok=True)
            html_file.write_text(
                rp.render_html(
                    routing,
                    workload,
                    conflicts,
                    data.since,
                    data.latest,
                    coverage=coverage,
                    fairness=fairness,
                ),
                encoding="utf-8",
            )
            console.print(f"[green]✓[/] wrote {html_file}", highlight=False)

    _guarded(body)


def _print_routing_report(routing: object) -> None:
    from switchboard.report import RoutingReport

    assert isinstance(routing, RoutingReport)
    console.print(_frame_table(routing.by_rule, "Records routed by rule"))
    if routing.conflict_lines:
        console.print("[bold]Conflicts[/] (first 20)")
        for line in routing.conflict_lines:
            console.print(f"  • {line}", highlight=False, soft_wrap=True)
    console.print(routing.headline(), highlight=False, soft_wrap=True)


def _print_workload_report(workload: object) -> None:
    from switchboard.report import WorkloadReport

    assert isinstance(workload, WorkloadReport)
    console.print(_frame_table(workload.per_rep, "Workload index per rep", limit=200))
    console.print(
        _frame_table(workload.teams, "Teams: average index and fairness of new assignments")
    )
    console.print(workload.headline(), highlight=False, soft_wrap=True)


def _print_fairness_report(fairness: object) -> None:
    from switchboard.report import FAIRNESS_WINDOWS, FairnessReport

    assert isinstance(fairness, FairnessReport)
    days = FAIRNESS_WINDOWS[0]
    console.print(
        _frame_table(
            fairness.window(days).select(
                "territory_id",
                "records",
                "max_abs_drift",
                "gini",
                "beyond_tolerance",
                "most_over",
                "most_under",
            ),
            f"Territory fairness, last {days} days (largest drift first)",
            limit=20,
        )
    )
    console.print(fairness.headline(days), highlight=False, soft_wrap=True)


def _print_conflicts_report(conflicts: object) -> None:
    from switchboard.report import ConflictsReport

    assert isinstance(conflicts, ConflictsReport)
    console.print(_frame_table(conflicts.by_type, "Conflicts by type"))
    console.print(_frame_table(conflicts.by_resolution, "Conflicts by resolution"))
    console.print(_frame_table(conflicts.per_day, "Conflicts per day"))
    console.print(
        _frame_table(
            conflicts.recommendations.select("type", "evidence", "recommendation"),
            "Suggested rule changes",
        )
    )
    console.print(conflicts.headline(), highlight=False, soft_wrap=True)


def _print_coverage_report(coverage: object) -> None:
    from switchboard.report import CoverageReport

    assert isinstance(coverage, CoverageReport)
    console.print(
        _frame_table(
            coverage.overlaps, "Territories overlapping at equal priority (records both match)"
        )
    )
    console.print(_frame_table(coverage.gaps, "Records no territory matches, by country"))
    console.print(_frame_table(coverage.unstaffed, "Territories without an available member"))
    console.print(coverage.headline(), highlight=False, soft_wrap=True)


def whatif(
    snapshot: Snapshot,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="The new routing.yml to try (default: the shipped one)."),
    ] = None,
    current_config: Annotated[
        Path | None,
        typer.Option(
            "--current-config",
            help="The routing.yml the book is routed with now, to compare against (default: "
            "the shipped one).",
        ),
    ] = None,
    territories: Annotated[
        Path | None, typer.Option(help="The new territories.csv / .parquet to try.")
    ] = None,
    members: Annotated[
        Path | None, typer.Option(help="New territory_members file, if any.")
    ] = None,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    whatif_dir: WhatIfDir = Path("whatif"),
    as_of: AsOf = None,
    allow_backdated: AllowBackdated = False,
    mapping: MappingOpt = None,
) -> None:
    """Route the export under the current config and under a new routing.yml and/or
    territory plan, and show what would move; publish nothing.

    Writes every move to whatif/<id>/moves.csv and a page to whatif/<id>/index.html.
    Without --as-of it replays the latest run's as-of."""
    _time_option(as_of, check_future=not allow_backdated)
    _snapshot_option(snapshot)
    _file_options(config, current_config, territories, members)
    _config_option(config, mapping)
    _config_option(current_config, mapping)
    from switchboard.whatif import whatif as run_whatif

    result = _run_flow(
        lambda: run_whatif(
            snapshot,
            warehouse,
            config_path=config,
            current_config=current_config,
            mapping=_mapping_arg(mapping),
            territories=territories,
            as_of=as_of,
            members=members,
            allow_backdated=allow_backdated,
            out=whatif_dir,
        )
    )
    _print_whatif(result)


# How many territories and reps the printed summary lists; the page lists them all.
WHATIF_TOP = 5


def _print_whatif(result: object) -> None:
    """A what-if's summary (also what `run territory-change --dry-run` shows): the counts,
    the territories and reps it touches most, and where its files are."""
    import polars as pl

    from switchboard.whatif import MOVES_FILE, PAGE_FILE, WhatIf

    assert isinstance(result, WhatIf)
    diff = result.diff

    def arrow(before: str, after: str) -> pl.Expr:
        return pl.format("{} → {}", pl.col(before).fill_null(0.0), pl.col(after).fill_null(0.0))

    if diff.per_territory.height:
        console.print(
            _frame_table(
                diff.per_territory.select(
                    territory=pl.format("{} ({})", "territory_name", "territory_id"),
                    records_in="records_in",
                    records_out="records_out",
                    within="moved_within",
                    max_deviation=arrow("max_deviation_before", "max_deviation_after"),
                ),
                f"Territories most affected (of {diff.per_territory.height})",
                WHATIF_TOP,
            )
        )
    if diff.per_rep.height:
        console.print(
            _frame_table(
                diff.per_rep.select(
                    rep=pl.format("{} ({})", "rep_name", "rep_id"),
                    records_in="records_in",
                    records_out="records_out",
                    workload=arrow("workload_before", "workload_after"),
                ),
                f"Reps most affected (of {diff.per_rep.height})",
                WHATIF_TOP,
            )
        )
    console.print(
        f"[bold]What-if {result.id}, nothing published.[/] {escape(result.headline())}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"[dim]current: {escape(result.current)}\nnew:     {escape(result.proposed)}[/]",
        highlight=False,
        soft_wrap=True,
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    if result.folder is not None:
        console.print(
            f"[green]✓[/] every move in {result.folder / MOVES_FILE}, the page in "
            f"{result.folder / PAGE_FILE}",
            highlight=False,
            soft_wrap=True,
        )


def _may_open_browser(no_open: bool) -> bool:
    """Open a browser only for someone at a terminal: never with --no-open, in CI (CI set)
    or when stdin is not a TTY (a script, a scheduler, a test)."""
    return not no_open and not os.environ.get("CI") and sys.stdin.isatty()


def docs(
    warehouse: Warehouse = Path("warehouse.duckdb"),
    out: Annotated[Path, typer.Option("--out", help="Folder for the site's index.html.")] = Path(
        "dbt-docs"
    ),
    config: ConfigOpt = None,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Do not open the site in a browser.")
    ] = False,
    wait: Wait = 0,
) -> None:
    """Build dbt's documentation of the warehouse (every model, column, test and the
    lineage) as one static page, and open it in a browser."""
    _config_option(config)
    if not warehouse.is_file():
        _fail(
            f"warehouse {warehouse} is not a file: route an export into it first "
            "(switchboard run hourly)",
            EXIT_INPUT,
        )

    def body() -> Path:
        from switchboard import dbt
        from switchboard import warehouse as wh
        from switchboard.config import load_config
        from switchboard.pipeline.context import utc_now
        from switchboard.whatif import latest_as_of

        # dbt opens the file itself: not while a run writes to it.
        with wh.run_lock(warehouse, wait_seconds=wait):
            as_of = latest_as_of(warehouse) or utc_now()
            with console.status("dbt docs generate…"):
                return dbt.static_docs(warehouse, as_of, load_config(config), out)

    page = _guarded(body).resolve()
    console.print(f"[green]✓[/] dbt docs of {warehouse}: {page}", highlight=False, soft_wrap=True)
    if _may_open_browser(no_open):
        import webbrowser

        webbrowser.open(page.as_uri())
