"""Commands on exports and messages: generate, check, ingest, publish."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from switchboard.cli.options import (
    AcceptGuard,
    AsOf,
    ConfigOpt,
    MappingOpt,
    Snapshot,
    Wait,
    Warehouse,
    _accounts_option,
    _config_option,
    _mapping_arg,
    _snapshot_option,
    _time_option,
)
from switchboard.cli.running import (
    EXIT_CHECK,
    EXIT_INPUT,
    EXIT_PENDING,
    _fail,
    _flow,
    _frame_table,
    _guarded,
    _run_flow,
    console,
    err,
)


def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the snapshot into.")],
    accounts: Annotated[int, typer.Option(help="Number of accounts (at least 200).")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same org.")] = 7,
    leads: Annotated[int | None, typer.Option(help="Leads (default accounts/10).")] = None,
    reps: Annotated[int | None, typer.Option(help="Reps (default max(24, accounts/1000)).")] = None,
    territories: Annotated[int | None, typer.Option(help="Territories (default reps/5).")] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    as_of: AsOf = None,
    bad_rows: Annotated[bool, typer.Option(help="Sprinkle contract-breaking rows.")] = True,
) -> None:
    """Generate a realistic synthetic org in the snapshot contract."""
    _time_option(as_of)
    _accounts_option(accounts)
    from switchboard.generate import generate_org
    from switchboard.pipeline.context import parse_as_of

    if file_format not in ("csv", "parquet"):
        _fail("--format must be csv or parquet", EXIT_INPUT)
    started = time.perf_counter()
    with console.status("generating…"):
        summary = generate_org(
            out,
            accounts=accounts,
            seed=seed,
            as_of=parse_as_of(as_of) if as_of else None,
            leads=leads,
            reps=reps,
            territories=territories,
            file_format=file_format,  # type: ignore[arg-type]
            bad_rows=bad_rows,
        )
    console.print(
        f"[green]✓[/] wrote {out} in {time.perf_counter() - started:.1f} s: {summary}",
        highlight=False,
        soft_wrap=True,
    )


def check(
    snapshot: Annotated[
        Path | None, typer.Option(help="Snapshot folder to validate against the contracts.")
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="With --snapshot: a scratch warehouse for the check (default check.duckdb). "
            "Alone: the routing warehouse whose dbt data tests to run "
            "(default warehouse.duckdb)."
        ),
    ] = None,
    config: ConfigOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """Validate a snapshot against the contracts, or run every dbt data test on a warehouse.

    With --snapshot it summarises what would be quarantined, and exits 2 when a file has
    rows and none would load, or a required file has a header only: a run would stop at
    its guards, or route without that entity. Without --snapshot it runs the project's
    whole data-test suite against the warehouse as the last run left it (routing runs
    after the first of a day run only the blocking tests), keeps every outcome in
    routing.data_tests and exits 2 when a test fails."""
    if snapshot is None:
        _check_warehouse(warehouse or Path("warehouse.duckdb"), config)
        return
    warehouse = warehouse or Path("check.duckdb")
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    from switchboard import reference
    from switchboard import warehouse as wh
    from switchboard.config import load_config
    from switchboard.ingest import IngestReport, ingest_snapshot

    header_mapping = load_config(config, mapping).mapping  # --mapping or routing.yml's

    def body() -> IngestReport:
        with wh.run_lock(warehouse):
            con = wh.connect(warehouse)
            try:
                reference.load_reference_tables(con)
                return ingest_snapshot(snapshot, con, run_id="check", mapping=header_mapping)
            finally:
                con.close()

    report = _guarded(body)
    table = Table(title=f"Snapshot {snapshot}", title_justify="left")
    for col in ("entity", "file", "input", "loaded", "quarantined"):
        table.add_column(
            col, justify="right" if col in ("input", "loaded", "quarantined") else "left"
        )
    for entity, row in report.as_dict().items():
        table.add_row(
            entity,
            str(row.get("source_file") or "—"),
            f"{row['input_rows']:,}",
            f"{row['loaded_rows']:,}",
            f"{row['quarantined_rows']:,}",
        )
    console.print(table)
    _print_quarantine_summary(report, warehouse)
    unusable = _unusable_files(report)
    if unusable:
        _fail("; ".join(unusable), EXIT_CHECK)


def _check_warehouse(warehouse: Path, config: Path | None) -> None:
    """`check --warehouse`: the whole dbt data-test suite on a built warehouse."""
    _config_option(config)
    if not warehouse.is_file():
        _fail(
            f"{warehouse} is not a warehouse file (run `switchboard run hourly` first)", EXIT_INPUT
        )
    from switchboard.config import load_config
    from switchboard.data_tests import run_on_demand
    from switchboard.pipeline.context import utc_now
    from switchboard.whatif import latest_as_of

    def body() -> object:
        as_of = latest_as_of(warehouse) or utc_now()
        with console.status("Running every dbt data test…"):
            return run_on_demand(warehouse, as_of, load_config(config))

    import polars as pl

    outcomes = _guarded(body)
    assert isinstance(outcomes, pl.DataFrame)
    counts = outcomes.group_by("status").len().sort("status")
    console.print(
        ", ".join(f"{n} {status}" for status, n in counts.iter_rows())
        + f" of {outcomes.height} data tests on {warehouse}; kept in "
        "routing.data_tests (run_id 'check')",
        highlight=False,
        soft_wrap=True,
    )
    flagged = outcomes.filter(pl.col("status").is_in(["fail", "error", "warn"]))
    if flagged.height:
        console.print(
            _frame_table(
                flagged.select("status", "name", "failures"), "Tests that failed or warned"
            )
        )
    failed = outcomes.filter(pl.col("status").is_in(["fail", "error"])).height
    if failed:
        _fail(f"{failed} data test{'s' if failed != 1 else ''} failed on {warehouse}", EXIT_CHECK)


def _print_quarantine_summary(report: object, warehouse: Path) -> None:
    """Quarantine counted by entity, column and reason, with the first rows and the first
    row's reason: a format change quarantining 2,000 rows reads as one line."""
    from switchboard.ingest import IngestReport
    from switchboard.ingest.validate import CELL_CLEARED

    assert isinstance(report, IngestReport)
    summary = report.quarantine_summary()
    if summary.is_empty():
        console.print("[green]✓[/] every row meets its contract")
        return
    q = Table(
        title="Would be quarantined (rows) or cleared (cells), by column and reason",
        title_justify="left",
    )
    for col in ("entity", "column", "count", "first rows", "reason (first row)"):
        q.add_column(col, justify="right" if col == "count" else "left", overflow="fold")
    for row in summary.iter_rows(named=True):
        unit = "cell" if row["action"] == CELL_CLEARED else "row"
        count = f"{row['rows']:,} {unit}{'s' if row['rows'] != 1 else ''}"
        q.add_row(row["entity"], row["column_name"], count, row["first_rows"], row["example"] or "")
    console.print(q)
    cleared = int(summary.filter(summary["action"] == CELL_CLEARED)["rows"].sum())
    console.print(
        f"{report.quarantined_rows:,} rows would be quarantined and {cleared:,} "
        f"cells cleared; raw.quarantine in {warehouse} (run_id 'check') lists "
        "each one",
        highlight=False,
        soft_wrap=True,
    )


def _unusable_files(report: object) -> list[str]:
    """Why a run could not use this export: a file whose rows would all be quarantined,
    or a required file with a header only."""
    from switchboard.contracts import load_contracts
    from switchboard.ingest import IngestReport

    assert isinstance(report, IngestReport)
    contracts = load_contracts()
    problems = []
    for entity, r in report.entities.items():
        required = contracts[entity].required
        name = Path(r.source_file).name if r.source_file else f"{entity}.csv"
        outcome = (
            "a run would stop (guard empty_export)"
            if required
            else f"a run would route without {entity}"
        )
        if r.input_rows and not r.loaded_rows:
            problems.append(
                f"every row of {name} ({r.input_rows:,}) would be quarantined: {outcome}"
            )
        elif required and r.source_file and not r.input_rows:
            problems.append(f"{name} has a header only: {outcome}")
    return problems


def ingest(
    snapshot: Snapshot,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    config: ConfigOpt = None,
    wait: Wait = 0,
    accept_guard: AcceptGuard = None,
    mapping: MappingOpt = None,
) -> None:
    """Load a snapshot into raw.* (bad rows to raw.quarantine) without routing."""
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    counts = _run_flow(
        lambda: _flow("ingest")(
            snapshot=str(snapshot),
            warehouse=str(warehouse),
            config=str(config) if config else None,
            mapping=_mapping_arg(mapping),
            lock_wait_seconds=wait,
            accept_guards=accept_guard,
        )
    )
    assert isinstance(counts, dict)
    table = Table(title=f"Ingested {snapshot} into {warehouse}", title_justify="left")
    for col in ("entity", "input", "loaded", "quarantined"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for entity, row in counts.items():
        table.add_row(
            entity, str(row["input_rows"]), str(row["loaded_rows"]), str(row["quarantined_rows"])
        )
    console.print(table)


def publish_messages(
    retry: Annotated[
        bool,
        typer.Option(
            "--retry",
            help="Deliver the pending webhook, e-mail and Teams messages now "
            "(without it: list them).",
        ),
    ] = False,
    warehouse: Warehouse = Path("warehouse.duckdb"),
    config: ConfigOpt = None,
    wait: Wait = 0,
) -> None:
    """Deliver the webhook, e-mail and Teams messages earlier runs left pending; exit 5
    while any remain."""
    _config_option(config)
    import polars as pl

    from switchboard import notify, publish
    from switchboard import warehouse as wh
    from switchboard.config import load_config
    from switchboard.summary import delivery_line

    def body() -> tuple[publish.DeliveryReport | None, pl.DataFrame, pl.DataFrame]:
        settings = load_config(config)
        if not warehouse.is_file():
            raise FileNotFoundError(f"warehouse {warehouse} does not exist")
        with wh.run_lock(warehouse, wait_seconds=wait):
            con = wh.connect(warehouse)
            try:
                publish.ensure_tables(con)
                report = notify.deliver(con, settings.sinks) if retry else None
                delivered = wh.query(
                    con,
                    "select message_key, run_id, sink, kind from routing.outbox_messages "
                    "where message_key in (select unnest(?::varchar[])) order by sent_at",
                    [list(report.delivered) if report else []],
                )
                return report, delivered, publish.pending_messages(con)
            finally:
                con.close()

    report, delivered, pending = _guarded(body)
    if report is not None:
        if delivered.height:
            noun = "message" if delivered.height == 1 else "messages"
            console.print(_frame_table(delivered, f"Delivered {delivered.height} pending {noun}"))
        else:
            console.print("Nothing delivered.", highlight=False)
    if not pending.height:
        console.print("[green]✓[/] no message is pending", highlight=False)
        return
    console.print(
        _frame_table(
            pending.select(
                "message_key",
                "run_id",
                "sink",
                "kind",
                "attempts",
                "last_error",
                pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("queued_at"),
            ),
            f"Still pending ({pending.height})",
        )
    )
    errors = pending["last_error"].drop_nulls().to_list()
    last_error = (
        report.error
        if report is not None and report.error
        else (str(errors[-1]) if errors else None)
    )
    err.print(
        delivery_line(pending.height, last_error, notify.pending_sinks(pending)),
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    raise typer.Exit(EXIT_PENDING)
