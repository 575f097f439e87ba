"""Commands that route: run hourly, departure, arrivals and territory-change, demo, serve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from switchboard.cli.options import (
    AcceptGuard,
    AllowBackdated,
    AsOf,
    ConfigOpt,
    MappingOpt,
    Outbox,
    Snapshot,
    Wait,
    Warehouse,
    WhatIfDir,
    _accounts_option,
    _config_option,
    _file_options,
    _mapping_arg,
    _rep_option,
    _snapshot_option,
    _time_option,
)
from switchboard.cli.reports import _print_whatif
from switchboard.cli.running import (
    _exit_if_pending,
    _flow,
    _guarded,
    _print_summary,
    _run_flow,
    console,
)

if TYPE_CHECKING:  # typer must not pay for the engine's import at start-up
    from datetime import datetime

    from switchboard.plans import Mode


def _answered_from_ledger(
    mode: Mode,
    snapshot: Path,
    warehouse: Path,
    outbox: Path,
    config: Path | None,
    as_of: str | None,
    wait: float,
    allow_backdated: bool,
    leaver: str | None = None,
    mapping: str | None = None,
) -> bool:
    """Answer a run on an export that is already published from the run ledger, before
    Prefect, dbt or Great Expectations start (a second instead of twenty): print the
    published run's summary, deliver what an outage held back, exit as the run would.
    False when the run has work to do, and the flow runs as usual."""
    from switchboard.config import load_config
    from switchboard.pipeline import make_context
    from switchboard.pipeline.ledger import answer_from_ledger

    def lookup() -> object:
        ctx = make_context(
            snapshot=snapshot,
            warehouse_path=warehouse,
            outbox=outbox,
            config=load_config(config, mapping),
            as_of=as_of,
            mode=mode,
            leaver_rep_ids=(leaver,) if leaver else (),
            allow_backdated=allow_backdated,
        )
        return answer_from_ledger(ctx, wait)

    started = time.perf_counter()
    summary = _guarded(lookup)
    if summary is None:
        return False
    _print_summary(summary)
    console.print(f"[dim]finished in {time.perf_counter() - started:.1f} s[/]")
    _exit_if_pending(summary)
    return True


def _route_and_print(
    run: str,
    snapshot: Path,
    warehouse: Path,
    outbox: Path,
    config: Path | None,
    wait: float,
    allow_backdated: bool,
    accept_guard: list[str] | None = None,
    mapping: str | None = None,
    **run_args: str | None,
) -> None:
    """Run a routing flow and print its routing log. ``run_args`` are the flow's own
    (``as_of``; a departure's ``rep`` and ``effective``)."""
    summary = _run_flow(
        lambda: _flow(run)(
            snapshot=str(snapshot),
            warehouse=str(warehouse),
            outbox=str(outbox),
            config=str(config) if config else None,
            mapping=_mapping_arg(mapping),
            lock_wait_seconds=wait,
            allow_backdated=allow_backdated,
            accept_guards=accept_guard,
            **run_args,
        )
    )
    _print_summary(summary)
    _exit_if_pending(summary)


def run_hourly(
    snapshot: Snapshot,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    config: ConfigOpt = None,
    as_of: AsOf = None,
    wait: Wait = 0,
    allow_backdated: AllowBackdated = False,
    accept_guard: AcceptGuard = None,
    mapping: MappingOpt = None,
    spark_home: Annotated[
        Path | None,
        typer.Option(
            help="Run on Apache Spark (`make spark-setup`), the book's tables under this "
            "folder; --warehouse then keeps only the run ledger and the outbox."
        ),
    ] = None,
) -> None:
    """Route everything that needs an owner in this snapshot and publish it."""
    _time_option(as_of, check_future=not allow_backdated)  # before Prefect is imported
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    if spark_home is None and _answered_from_ledger(
        "hourly", snapshot, warehouse, outbox, config, as_of, wait, allow_backdated, mapping=mapping
    ):
        return
    _route_and_print(
        "hourly",
        snapshot,
        warehouse,
        outbox,
        config,
        wait,
        allow_backdated,
        accept_guard,
        mapping,
        as_of=as_of,
        spark_home=str(spark_home) if spark_home is not None else None,
    )


def run_departure(
    snapshot: Snapshot,
    rep: Annotated[str, typer.Option(help="rep_id of the leaver.")],
    effective: Annotated[
        str | None, typer.Option(help="Effective date/time (default now).")
    ] = None,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    config: ConfigOpt = None,
    as_of: AsOf = None,
    wait: Wait = 0,
    allow_backdated: AllowBackdated = False,
    accept_guard: AcceptGuard = None,
    mapping: MappingOpt = None,
) -> None:
    """Redistribute a leaver's book now, even before HR shows the departure.

    The effective time may lie before the export (a leaver effective yesterday); only one
    more than a day ahead of now needs --allow-backdated."""
    # Everything is checked before Prefect is imported; the leaver against the export.
    _time_option(effective, "--effective", check_future=not allow_backdated)
    _time_option(as_of, check_future=not allow_backdated)
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    _rep_option(snapshot, rep, config, mapping)
    if _answered_from_ledger(
        "departure",
        snapshot,
        warehouse,
        outbox,
        config,
        effective or as_of,
        wait,
        allow_backdated,
        leaver=rep,
        mapping=mapping,
    ):
        return
    _route_and_print(
        "departure",
        snapshot,
        warehouse,
        outbox,
        config,
        wait,
        allow_backdated,
        accept_guard,
        mapping,
        rep=rep,
        effective=effective or as_of,
    )


def run_arrivals(
    snapshot: Snapshot,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    config: ConfigOpt = None,
    as_of: AsOf = None,
    wait: Wait = 30,
    allow_backdated: AllowBackdated = False,
    accept_guard: AcceptGuard = None,
    mapping: MappingOpt = None,
) -> None:
    """Route the accounts and leads the export lists for the first time (one pass)."""
    _time_option(as_of, check_future=not allow_backdated)  # before Prefect is imported
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    _route_and_print(
        "arrivals",
        snapshot,
        warehouse,
        outbox,
        config,
        wait,
        allow_backdated,
        accept_guard,
        mapping,
        as_of=as_of,
    )


def run_territory_change(
    snapshot: Snapshot,
    territories: Annotated[Path, typer.Option(help="The new territories.csv / .parquet.")],
    members: Annotated[
        Path | None, typer.Option(help="New territory_members file, if any.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff, publish nothing.")
    ] = False,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    config: ConfigOpt = None,
    as_of: AsOf = None,
    wait: Wait = 0,
    allow_backdated: AllowBackdated = False,
    accept_guard: AcceptGuard = None,
    mapping: MappingOpt = None,
    whatif_dir: WhatIfDir = Path("whatif"),
) -> None:
    """Apply a new territory plan to the affected accounts now.

    With --dry-run it is a what-if of the new plan (see `switchboard whatif`): the diff
    against the export's plan under the same config, saved in whatif/<id>/."""
    _time_option(as_of, check_future=not allow_backdated)  # before Prefect is imported
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    _file_options(territories, members)
    from switchboard.whatif import WhatIf

    result = _run_flow(
        lambda: _flow("territory_change")(
            snapshot=str(snapshot),
            territories=str(territories),
            members=str(members) if members else None,
            dry_run=dry_run,
            warehouse=str(warehouse),
            outbox=str(outbox),
            config=str(config) if config else None,
            mapping=_mapping_arg(mapping),
            as_of=as_of,
            lock_wait_seconds=wait,
            allow_backdated=allow_backdated,
            accept_guards=accept_guard,
            whatif_dir=str(whatif_dir),
        )
    )
    if isinstance(result, WhatIf):
        _print_whatif(result)
    else:
        _print_summary(result)
        _exit_if_pending(result)


def demo(
    out: Annotated[Path, typer.Option(help="Where to write the demo org.")] = Path("demo_org"),
    accounts: Annotated[int, typer.Option(help="Number of accounts (at least 200).")] = 2000,
    seed: int = 7,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    config: ConfigOpt = None,
    as_of: AsOf = None,
) -> None:
    """Generate the demo org, run hourly routing on it, print the routing log."""
    _time_option(as_of)
    _accounts_option(accounts)
    _config_option(config)
    from switchboard.generate import generate_org
    from switchboard.pipeline.context import parse_as_of

    when = parse_as_of(as_of)
    # A fresh demo each time: yesterday's warehouse would say "nothing new".
    for stale in (warehouse, Path(f"{warehouse}.wal")):
        stale.unlink(missing_ok=True)
    with console.status("generating the demo org…"):
        # Enough reps that neighbouring teams need not share members, so the
        # multi-territory story has two territories with different picks.
        org = generate_org(
            out,
            accounts=accounts,
            seed=seed,
            as_of=when,
            reps=max(60, accounts // 1000),
            inbound_stories=True,
        )
    console.print(f"[green]✓[/] demo org in {out}: {org}", highlight=False, soft_wrap=True)
    # The org is generated at the as-of, so export and as-of agree by construction.
    run_hourly(
        snapshot=out,
        warehouse=warehouse,
        outbox=outbox,
        config=config,
        as_of=when.isoformat(),
        wait=0,
        allow_backdated=True,
    )
    _demo_sla_pass(out, warehouse, outbox, config, when)
    _print_stories(warehouse)


def _demo_sla_pass(
    out: Path, warehouse: Path, outbox: Path, config: Path | None, when: datetime
) -> None:
    """With routing.yml's first-touch SLA on, an arrivals pass a little after its deadline:
    the export has not changed, so it decides only the story lead nobody touched."""
    from datetime import timedelta

    from switchboard.config import load_config
    from switchboard.generate import LEAD_SLA

    sla = load_config(config).sla
    if sla is None:
        return
    later = when + timedelta(minutes=sla.first_touch_minutes + 5)
    console.print(
        f"[dim]{sla.first_touch_minutes + 5} minutes later, nobody has touched "
        f"{LEAD_SLA}: an arrivals pass at {later:%H:%M}[/]",
        highlight=False,
    )
    run_arrivals(
        snapshot=out,
        warehouse=warehouse,
        outbox=outbox,
        config=config,
        as_of=later.isoformat(),
        wait=0,
        allow_backdated=True,
    )


def serve(
    snapshot: Snapshot = Path("snapshot"),
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    deployment: Annotated[
        list[str] | None,
        typer.Option(
            "--deployment",
            "-d",
            help="Serve only this deployment of prefect.yaml (repeatable); default all.",
        ),
    ] = None,
) -> None:
    """Serve the scheduled deployments (hourly-routing, arrivals, …) until Ctrl-C.

    Starts a local Prefect server when PREFECT_API_URL is not set."""
    from switchboard.serve import serve as serve_deployments

    def ready(url: str, names: list[str]) -> None:
        console.print(
            f"[green]✓[/] Prefect API {url}; serving {', '.join(names)}. Ctrl-C stops.",
            highlight=False,
        )

    overrides = {
        "snapshot": str(snapshot.resolve()),
        "warehouse": str(warehouse.resolve()),
        "outbox": str(outbox.resolve()),
    }
    try:
        serve_deployments(overrides, on_ready=ready, only=tuple(deployment or ()))
    except ValueError as error:
        console.print(f"[red]✗[/] {error}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")


def _print_stories(warehouse: Path) -> None:
    """The demo org's stories, as the routing log tells them."""
    from switchboard.stories import story_rows

    rows = story_rows(warehouse)
    if not rows:
        return
    table = Table(
        title="What happened to the demo org's stories", title_justify="left", show_lines=True
    )
    table.add_column("story")
    table.add_column("outcome")
    for story, outcome in rows:
        table.add_row(story, outcome)
    console.print(table)
