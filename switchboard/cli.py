"""The `switchboard` command line (Typer + Rich)."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import switchboard  # (also switches telemetry off before anything else loads)
from switchboard import progress

if TYPE_CHECKING:  # typer must not pay for the engine's import at start-up
    from datetime import datetime

    from switchboard.plans import Mode

app = typer.Typer(
    name="switchboard",
    help="Route every account and lead to the right owner, and log why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
run_app = typer.Typer(help="Run a routing flow.", no_args_is_help=True)
app.add_typer(run_app, name="run")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

Warehouse = Annotated[Path, typer.Option(help="DuckDB warehouse file.")]
Outbox = Annotated[Path, typer.Option(help="Folder for outbox/<run_id>/ files.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="routing.yml (default: the shipped one).")
]
MappingOpt = Annotated[str | None, typer.Option(
    "--mapping", metavar="PRESET|FILE",
    help="How the export's headers and values map to the contracts: a preset (hubspot, "
         "salesforce-report) or a mapping.yml; replaces routing.yml's `mapping:`.")]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="ISO timestamp that fixes 'now' (default: now, UTC)."),
]
Snapshot = Annotated[
    Path, typer.Option(help="Snapshot folder: one <entity>.csv or .parquet per entity.")
]
Wait = Annotated[float, typer.Option("--wait", help="Seconds to wait for a running run.")]
AllowBackdated = Annotated[bool, typer.Option(
    "--allow-backdated",
    help="Accept an as-of earlier than the export's records or more than a day ahead of "
         "now (a deliberate replay).")]


def _known_guards(names: list[str] | None) -> list[str]:
    """An unknown guard name is an input mistake like a bad --as-of: one line, EXIT_INPUT
    (not Click's usage error, whose exit 2 would read as a failed check)."""
    import difflib

    from switchboard.guards import GUARD_NAMES

    for name in names or ():
        if name not in GUARD_NAMES:
            close = difflib.get_close_matches(name, GUARD_NAMES, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            _fail(f"--accept-guard {name} is not a guard that can be accepted: {hint}"
                  f"the guards are {', '.join(GUARD_NAMES)}", EXIT_INPUT)
    return names or []


WhatIfDir = Annotated[Path, typer.Option(
    "--whatif-dir", help="Folder for whatif/<id>/ files (moves.csv, index.html).")]
AcceptGuard = Annotated[list[str] | None, typer.Option(
    "--accept-guard", callback=_known_guards, metavar="GUARD",
    help="Accept this guard for this run only (repeatable): the stop message names it.")]

EXIT_INPUT, EXIT_CHECK, EXIT_GUARD, EXIT_LOCKED = 1, 2, 3, 4
# Published, but webhook messages are still pending (docs/OPERATIONS.md).
EXIT_PENDING = 5
# The machine, not the data: a full disk, a read-only file system, a permission denied.
EXIT_INFRA = 6
# Anything unexpected (a bug): the exit code Python itself gives an uncaught exception, so
# that it does not change with --debug, which lets the exception through.
EXIT_UNEXPECTED = 1

# Set by --debug (or SWITCHBOARD_DEBUG=1) for the command being run.
_debug = False


def _print_version(value: bool) -> None:
    if value:
        console.print(f"switchboard {switchboard.__version__} "
                      f"(engine {switchboard.ENGINE_VERSION})", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(
        "--debug", envvar="SWITCHBOARD_DEBUG",
        help="On a failure, show the full traceback, not just the one-line error.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    global _debug  # noqa: PLW0603 - one flag for the whole command line, read by _guarded
    _debug = debug


def _fail(message: str, code: int, error: BaseException | None = None) -> None:
    if _debug and error is not None:
        sys.stderr.write("".join(traceback.format_exception(error)))
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _time_option(value: str | None, option: str = "--as-of", *,
                 check_future: bool = False) -> None:
    """Stop in one line on a time option that is not ISO 8601 (or, with ``check_future``,
    that lies more than a day ahead of now), before Prefect, dbt or the warehouse start."""
    from switchboard.asof import AsOfError, check_not_future, parse_time

    if value is None:
        return
    try:
        when = parse_time(value, option)
        if check_future:
            check_not_future(when, option=option)
    except AsOfError as exc:
        _fail(str(exc), EXIT_INPUT)


def _accounts_option(accounts: int) -> None:
    """The generator's smallest org holds every demo story: fewer accounts is an input
    mistake (one line, EXIT_INPUT), not a traceback from inside the generator."""
    from switchboard.generate import MIN_ACCOUNTS

    if accounts < MIN_ACCOUNTS:
        _fail(f"--accounts {accounts}: the generated org needs at least {MIN_ACCOUNTS} "
              "accounts", EXIT_INPUT)


def _config_option(config: Path | None, mapping: str | None = None) -> None:
    """Stop in one line on a routing.yml (or --mapping) that does not load (the file, the
    line, the key it probably meant), before Prefect, dbt or Great Expectations are
    imported: a typo should not cost their start-up, nor read as one of their errors."""
    from switchboard.config import ConfigError, load_config
    from switchboard.config.sinks import check_sink_variables

    try:
        load_config(config, mapping)
        check_sink_variables()
    except ConfigError as exc:
        _fail(str(exc), EXIT_INPUT, exc)


def _mapping_arg(mapping: str | None) -> str | None:
    """--mapping as the flows take it: a file as an absolute path (a served flow may run
    in another folder), a preset by name."""
    if mapping is None or not Path(mapping).is_file():
        return mapping
    return str(Path(mapping).resolve())


def _snapshot_option(snapshot: Path) -> None:
    """Stop in one line when --snapshot is not a folder, before anything starts."""
    if not snapshot.is_dir():
        _fail(f"snapshot {snapshot} is not a folder", EXIT_INPUT)


def _file_options(*paths: Path | None) -> None:
    """Stop in one line when a file option names no file, before anything starts."""
    for path in paths:
        if path is not None and not path.is_file():
            _fail(f"{path} is not a file", EXIT_INPUT)


def _rep_option(snapshot: Path, rep: str, config: Path | None = None,
                mapping: str | None = None) -> None:
    """Stop in one line when --rep is not in the snapshot's reps export (read through the
    header mapping, if any), naming the ids it probably meant (switchboard.preflight): a
    typo would otherwise decide nothing, exit 0."""
    from switchboard.config import load_config
    from switchboard.errors import InputError
    from switchboard.preflight import check_leavers

    try:
        check_leavers(snapshot, [rep], mapping=load_config(config, mapping).mapping)
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT, exc)


def _guarded(fn: Callable[[], T]) -> T:
    """Run a command body; known failures become one clear line and a non-zero exit.

    Faults of the machine (switchboard.faults) are recognised anywhere in the exception's
    chain, before the check failures they may surface as (dbt failing on a full disk is a
    full disk). Anything else is unexpected: one line and EXIT_UNEXPECTED, or, with
    --debug, the exception itself.
    """
    from switchboard.asof import AsOfError
    from switchboard.config import ConfigError
    from switchboard.errors import InputError, SnapshotError
    from switchboard.faults import infrastructure_fault
    from switchboard.guards import GuardTripped
    from switchboard.warehouse import WarehouseLocked

    known_input: tuple[type[BaseException], ...] = (
        ConfigError, FileNotFoundError, AsOfError, SnapshotError, InputError)
    try:
        return fn()
    except typer.Exit:
        raise
    except GuardTripped as exc:
        _fail(f"run stopped, nothing published: {exc.message}", EXIT_GUARD, exc)
    except WarehouseLocked as exc:
        _fail(str(exc), EXIT_LOCKED, exc)
    except known_input as exc:
        _fail(str(exc), EXIT_INPUT, exc)
    except Exception as exc:
        fault = infrastructure_fault(exc)
        if fault is not None:
            _fail(fault.line(), EXIT_INFRA, exc)
        name = type(exc).__name__
        if name in {"StageCheckFailed", "DbtBuildFailed"}:
            _fail(str(exc).splitlines()[0] if str(exc) else name, EXIT_CHECK, exc)
        if _debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _fail(f"unexpected {name}{': ' + first if first else ''} "
              "(run with --debug for the traceback)", EXIT_UNEXPECTED)
    raise AssertionError("unreachable")  # pragma: no cover


def _progress_printer() -> Callable[[], None]:
    def listener(stage: str, event: str, seconds: float) -> None:
        if event == "start":
            console.print(f"[dim]… {stage}[/]", highlight=False)
        elif event == "done":
            console.print(f"[green]✓[/] {stage} [dim]{seconds:.1f} s[/]", highlight=False)
        else:
            console.print(f"[red]✗[/] {stage} [dim]{seconds:.1f} s[/]", highlight=False)

    return progress.subscribe(listener)


def _print_summary(summary: object) -> None:
    from switchboard.summary import RULE_LABELS, RunSummary

    assert isinstance(summary, RunSummary)
    if summary.by_rule:
        table = Table(title=f"Routing log — run {summary.run_id}", title_justify="left")
        table.add_column("rule")
        table.add_column("records", justify="right")
        table.add_column("meaning", style="dim")
        for rule, n in sorted(summary.by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(rule, str(n), RULE_LABELS.get(rule, ""))
        console.print(table)
    if summary.alerts_by_type:
        alerts = Table(title="Alerts", title_justify="left")
        alerts.add_column("type")
        alerts.add_column("count", justify="right")
        for kind, n in sorted(summary.alerts_by_type.items()):
            alerts.add_row(kind, str(n))
        console.print(alerts)
    console.print(summary.headline(), highlight=False, soft_wrap=True)
    if summary.message and summary.status != "stopped":
        console.print(f"[dim]{summary.message}[/]", highlight=False)


def _exit_if_pending(summary: object) -> None:
    """A published run whose deliveries are pending ends with one line on stderr and
    EXIT_PENDING, after its summary: the run is done, the webhook has not heard of it."""
    from switchboard.summary import RunSummary

    if isinstance(summary, RunSummary) and summary.pending_messages:
        err.print(summary.delivery_line(), highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(EXIT_PENDING)


# Prefect logs a failed task's traceback at ERROR; the CLI reports the failure itself in
# one line, so those loggers are quietened while a flow runs from the command line.
_QUIET_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.engine")


def _orchestrated() -> bool:
    """True when a Prefect API is configured (PREFECT_API_URL): a run from the command
    line is then a flow run that server records. Without one, a one-shot run needs no
    orchestrator, and starting Prefect's temporary server (about 6 s) would buy nothing:
    the run's plain function (switchboard.runs) runs in this process, each stage called
    directly, and Prefect is not even imported (about 1.5 s) when none of the places
    Prefect reads its settings from exists."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if not _prefect_settings_files():
        return False
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def _prefect_settings_files() -> list[Path]:
    """The files Prefect could read PREFECT_API_URL from, of those that exist: its
    profiles (PREFECT_PROFILES_PATH, else PREFECT_HOME/profiles.toml), and .env,
    prefect.toml and a pyproject.toml with a [tool.prefect] table in the working folder."""
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    candidates = [Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml"),
                  Path(".env"), Path("prefect.toml")]
    found = [path for path in candidates if path.is_file()]
    pyproject = Path("pyproject.toml")
    if pyproject.is_file() and "[tool.prefect" in pyproject.read_text(errors="replace"):
        found.append(pyproject)
    return found


def _flow(name: str) -> Callable[..., Any]:
    """The run `name` of switchboard.runs: as its Prefect flow (flows/) when orchestrated,
    else as the plain function, its stages called directly."""
    if not _orchestrated():
        from switchboard import runs

        return cast(Callable[..., Any], getattr(runs, name))
    import flows.arrivals
    import flows.departure_redistribution
    import flows.hourly_routing
    import flows.ingest
    import flows.territory_change

    return cast(Callable[..., Any], {
        "hourly": flows.hourly_routing.hourly_routing,
        "departure": flows.departure_redistribution.departure_redistribution,
        "arrivals": flows.arrivals.arrivals,
        "territory_change": flows.territory_change.territory_change,
        "ingest": flows.ingest.ingest,
    }[name])


def _run_flow(call: Callable[[], object]) -> object:
    from switchboard.pipeline.watch import warm_up, warm_up_in_background
    from switchboard.serve import start_temporary_server_early

    # On exit Prefect drains its event queue, logging "Still processing items" meanwhile;
    # after a one-line error that reads like a second problem.
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)
    started = time.perf_counter()
    if _orchestrated():
        # Prefect configures its loggers when it loads (prefect.main); load it now, so the
        # levels set below for the run are not reset when the flow is first imported.
        import prefect.main  # noqa: F401

        with console.status("Starting Prefect and loading dbt…"):
            server_ready = start_temporary_server_early()
            warm_up()
            server_ready()
    else:
        # Load them while the run prepares and ingests (pipeline.watch.warm_up_in_background):
        # the stage that first needs one waits for it, if it is not loaded yet.
        warm_up_in_background()
    unsubscribe = _progress_printer()
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        result = _guarded(call)
    finally:
        unsubscribe()
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    console.print(f"[dim]finished in {time.perf_counter() - started:.1f} s[/]")
    return result


# ---------------------------------------------------------------- commands


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the snapshot into.")],
    accounts: Annotated[int, typer.Option(help="Number of accounts (at least 200).")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same org.")] = 7,
    leads: Annotated[int | None, typer.Option(help="Leads (default accounts/10).")] = None,
    reps: Annotated[int | None, typer.Option(help="Reps (default max(24, accounts/1000)).")]
    = None,
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
            out, accounts=accounts, seed=seed, as_of=parse_as_of(as_of) if as_of else None,
            leads=leads, reps=reps, territories=territories,
            file_format=file_format,  # type: ignore[arg-type]
            bad_rows=bad_rows,
        )
    console.print(
        f"[green]✓[/] wrote {out} in {time.perf_counter() - started:.1f} s: {summary}",
        highlight=False, soft_wrap=True,
    )


@app.command()
def check(
    snapshot: Annotated[Path | None, typer.Option(
        help="Snapshot folder to validate against the contracts.")] = None,
    warehouse: Annotated[Path | None, typer.Option(
        help="With --snapshot: a scratch warehouse for the check (default check.duckdb). "
        "Alone: the routing warehouse whose dbt data tests to run "
        "(default warehouse.duckdb).")] = None,
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
                return ingest_snapshot(snapshot, con, run_id="check",
                                       mapping=header_mapping)
            finally:
                con.close()

    report = _guarded(body)
    table = Table(title=f"Snapshot {snapshot}", title_justify="left")
    for col in ("entity", "file", "input", "loaded", "quarantined"):
        table.add_column(col, justify="right" if col in ("input", "loaded",
                                                         "quarantined") else "left")
    for entity, row in report.as_dict().items():
        table.add_row(entity, str(row.get("source_file") or "—"), f"{row['input_rows']:,}",
                      f"{row['loaded_rows']:,}", f"{row['quarantined_rows']:,}")
    console.print(table)
    _print_quarantine_summary(report, warehouse)
    unusable = _unusable_files(report)
    if unusable:
        _fail("; ".join(unusable), EXIT_CHECK)


def _check_warehouse(warehouse: Path, config: Path | None) -> None:
    """`check --warehouse`: the whole dbt data-test suite on a built warehouse."""
    _config_option(config)
    if not warehouse.is_file():
        _fail(f"{warehouse} is not a warehouse file (run `switchboard run hourly` first)",
              EXIT_INPUT)
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
    console.print(", ".join(f"{n} {status}" for status, n in counts.iter_rows()) +
                  f" of {outcomes.height} data tests on {warehouse}; kept in "
                  "routing.data_tests (run_id 'check')", highlight=False, soft_wrap=True)
    flagged = outcomes.filter(pl.col("status").is_in(["fail", "error", "warn"]))
    if flagged.height:
        console.print(_frame_table(flagged.select("status", "name", "failures"),
                                   "Tests that failed or warned"))
    failed = outcomes.filter(pl.col("status").is_in(["fail", "error"])).height
    if failed:
        _fail(f"{failed} data test{'s' if failed != 1 else ''} failed on {warehouse}",
              EXIT_CHECK)


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
    q = Table(title="Would be quarantined (rows) or cleared (cells), by column and reason",
              title_justify="left")
    for col in ("entity", "column", "count", "first rows", "reason (first row)"):
        q.add_column(col, justify="right" if col == "count" else "left", overflow="fold")
    for row in summary.iter_rows(named=True):
        unit = "cell" if row["action"] == CELL_CLEARED else "row"
        count = f"{row['rows']:,} {unit}{'s' if row['rows'] != 1 else ''}"
        q.add_row(row["entity"], row["column_name"], count, row["first_rows"],
                  row["example"] or "")
    console.print(q)
    cleared = int(summary.filter(summary["action"] == CELL_CLEARED)["rows"].sum())
    console.print(f"{report.quarantined_rows:,} rows would be quarantined and {cleared:,} "
                  f"cells cleared; raw.quarantine in {warehouse} (run_id 'check') lists "
                  "each one", highlight=False, soft_wrap=True)


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
        outcome = ("a run would stop (guard empty_export)" if required
                   else f"a run would route without {entity}")
        if r.input_rows and not r.loaded_rows:
            problems.append(f"every row of {name} ({r.input_rows:,}) would be quarantined: "
                            f"{outcome}")
        elif required and r.source_file and not r.input_rows:
            problems.append(f"{name} has a header only: {outcome}")
    return problems


@app.command()
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
    counts = _run_flow(lambda: _flow("ingest")(
        snapshot=str(snapshot), warehouse=str(warehouse),
        config=str(config) if config else None, mapping=_mapping_arg(mapping),
        lock_wait_seconds=wait, accept_guards=accept_guard,
    ))
    assert isinstance(counts, dict)
    table = Table(title=f"Ingested {snapshot} into {warehouse}", title_justify="left")
    for col in ("entity", "input", "loaded", "quarantined"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for entity, row in counts.items():
        table.add_row(entity, str(row["input_rows"]), str(row["loaded_rows"]),
                      str(row["quarantined_rows"]))
    console.print(table)


@app.command("publish")
def publish_messages(
    retry: Annotated[bool, typer.Option(
        "--retry", help="Deliver the pending webhook, e-mail and Teams messages now "
        "(without it: list them).")]
    = False,
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
                    con, "select message_key, run_id, sink, kind from routing.outbox_messages "
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
            console.print(_frame_table(delivered, f"Delivered {delivered.height} pending "
                                                  f"{noun}"))
        else:
            console.print("Nothing delivered.", highlight=False)
    if not pending.height:
        console.print("[green]✓[/] no message is pending", highlight=False)
        return
    console.print(_frame_table(
        pending.select("message_key", "run_id", "sink", "kind", "attempts", "last_error",
                       pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("queued_at")),
        f"Still pending ({pending.height})"))
    errors = pending["last_error"].drop_nulls().to_list()
    last_error = report.error if report is not None and report.error else (
        str(errors[-1]) if errors else None)
    err.print(delivery_line(pending.height, last_error, notify.pending_sinks(pending)),
              highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(EXIT_PENDING)


def _answered_from_ledger(mode: Mode, snapshot: Path, warehouse: Path, outbox: Path,
                          config: Path | None, as_of: str | None, wait: float,
                          allow_backdated: bool, leaver: str | None = None,
                          mapping: str | None = None) -> bool:
    """Answer a run on an export that is already published from the run ledger, before
    Prefect, dbt or Great Expectations start (a second instead of twenty): print the
    published run's summary, deliver what an outage held back, exit as the run would.
    False when the run has work to do, and the flow runs as usual."""
    from switchboard.config import load_config
    from switchboard.pipeline import make_context
    from switchboard.pipeline.ledger import answer_from_ledger

    def lookup() -> object:
        ctx = make_context(snapshot=snapshot, warehouse_path=warehouse, outbox=outbox,
                           config=load_config(config, mapping), as_of=as_of,
                           mode=mode,
                           leaver_rep_ids=(leaver,) if leaver else (),
                           allow_backdated=allow_backdated)
        return answer_from_ledger(ctx, wait)

    started = time.perf_counter()
    summary = _guarded(lookup)
    if summary is None:
        return False
    _print_summary(summary)
    console.print(f"[dim]finished in {time.perf_counter() - started:.1f} s[/]")
    _exit_if_pending(summary)
    return True


def _route_and_print(run: str, snapshot: Path, warehouse: Path,
                     outbox: Path, config: Path | None, as_of: str | None, wait: float,
                     allow_backdated: bool, accept_guard: list[str] | None = None,
                     mapping: str | None = None) -> None:
    """Run a snapshot-wide routing flow (hourly, arrivals) and print its routing log."""
    summary = _run_flow(lambda: _flow(run)(
        snapshot=str(snapshot), warehouse=str(warehouse), outbox=str(outbox),
        config=str(config) if config else None, mapping=_mapping_arg(mapping),
        as_of=as_of, lock_wait_seconds=wait,
        allow_backdated=allow_backdated,
        accept_guards=accept_guard,
    ))
    _print_summary(summary)
    _exit_if_pending(summary)


@run_app.command("hourly")
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
) -> None:
    """Route everything that needs an owner in this snapshot and publish it."""
    _time_option(as_of, check_future=not allow_backdated)  # before Prefect is imported
    _config_option(config, mapping)
    _snapshot_option(snapshot)
    if _answered_from_ledger("hourly", snapshot, warehouse, outbox, config, as_of, wait,
                             allow_backdated, mapping=mapping):
        return
    _route_and_print("hourly", snapshot, warehouse, outbox, config, as_of, wait,
                     allow_backdated, accept_guard, mapping)


@run_app.command("departure")
def run_departure(
    snapshot: Snapshot,
    rep: Annotated[str, typer.Option(help="rep_id of the leaver.")],
    effective: Annotated[str | None, typer.Option(help="Effective date/time (default now).")]
    = None,
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
    if _answered_from_ledger("departure", snapshot, warehouse, outbox, config,
                             effective or as_of, wait, allow_backdated, leaver=rep,
                             mapping=mapping):
        return
    summary = _run_flow(lambda: _flow("departure")(
        snapshot=str(snapshot), rep=rep, effective=effective or as_of,
        warehouse=str(warehouse), outbox=str(outbox),
        config=str(config) if config else None, mapping=_mapping_arg(mapping),
        lock_wait_seconds=wait,
        allow_backdated=allow_backdated,
        accept_guards=accept_guard,
    ))
    _print_summary(summary)
    _exit_if_pending(summary)


@run_app.command("arrivals")
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
    _route_and_print("arrivals", snapshot, warehouse, outbox, config, as_of, wait,
                     allow_backdated, accept_guard, mapping)


@run_app.command("territory-change")
def run_territory_change(
    snapshot: Snapshot,
    territories: Annotated[Path, typer.Option(help="The new territories.csv / .parquet.")],
    members: Annotated[Path | None, typer.Option(help="New territory_members file, if any.")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff, publish nothing.")]
    = False,
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

    result = _run_flow(lambda: _flow("territory_change")(
        snapshot=str(snapshot), territories=str(territories),
        members=str(members) if members else None, dry_run=dry_run,
        warehouse=str(warehouse), outbox=str(outbox),
        config=str(config) if config else None, mapping=_mapping_arg(mapping),
        as_of=as_of, lock_wait_seconds=wait,
        allow_backdated=allow_backdated,
        accept_guards=accept_guard,
        whatif_dir=str(whatif_dir),
    ))
    if isinstance(result, WhatIf):
        _print_whatif(result)
    else:
        _print_summary(result)
        _exit_if_pending(result)


@app.command()
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
        org = generate_org(out, accounts=accounts, seed=seed, as_of=when,
                           reps=max(60, accounts // 1000), inbound_stories=True)
    console.print(f"[green]✓[/] demo org in {out}: {org}", highlight=False, soft_wrap=True)
    # The org is generated at the as-of, so export and as-of agree by construction.
    run_hourly(snapshot=out, warehouse=warehouse, outbox=outbox, config=config,
               as_of=when.isoformat(), wait=0, allow_backdated=True)
    _demo_sla_pass(out, warehouse, outbox, config, when)
    _print_stories(warehouse)


def _demo_sla_pass(out: Path, warehouse: Path, outbox: Path, config: Path | None,
                   when: datetime) -> None:
    """With routing.yml's first-touch SLA on, an arrivals pass a little after its deadline:
    the export has not changed, so it decides only the story lead nobody touched."""
    from datetime import timedelta

    from switchboard.config import load_config
    from switchboard.generate import LEAD_SLA

    sla = load_config(config).sla
    if sla is None:
        return
    later = when + timedelta(minutes=sla.first_touch_minutes + 5)
    console.print(f"[dim]{sla.first_touch_minutes + 5} minutes later, nobody has touched "
                  f"{LEAD_SLA}: an arrivals pass at {later:%H:%M}[/]", highlight=False)
    run_arrivals(snapshot=out, warehouse=warehouse, outbox=outbox, config=config,
                 as_of=later.isoformat(), wait=0, allow_backdated=True)


@app.command()
def serve(
    snapshot: Snapshot = Path("snapshot"),
    warehouse: Warehouse = Path("warehouse.duckdb"),
    outbox: Outbox = Path("outbox"),
    deployment: Annotated[list[str] | None, typer.Option(
        "--deployment", "-d",
        help="Serve only this deployment of prefect.yaml (repeatable); default all.")] = None,
) -> None:
    """Serve the scheduled deployments (hourly-routing, arrivals, …) until Ctrl-C.

    Starts a local Prefect server when PREFECT_API_URL is not set."""
    from switchboard.serve import serve as serve_deployments

    def ready(url: str, names: list[str]) -> None:
        console.print(f"[green]✓[/] Prefect API {url}; serving {', '.join(names)}. "
                      "Ctrl-C stops.", highlight=False)

    overrides = {"snapshot": str(snapshot.resolve()), "warehouse": str(warehouse.resolve()),
                 "outbox": str(outbox.resolve())}
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
    table = Table(title="What happened to the demo org's stories", title_justify="left",
                  show_lines=True)
    table.add_column("story")
    table.add_column("outcome")
    for story, outcome in rows:
        table.add_row(story, outcome)
    console.print(table)


REPORT_KINDS = ("routing", "workload", "conflicts", "coverage")
ReportKind = Annotated[str, typer.Argument(help="routing, workload, conflicts or coverage.")]


@app.command()
def report(
    kind: ReportKind,
    since: Annotated[str | None, typer.Option(
        help="ISO date/time the window starts (default: 7 days before the latest run).")]
    = None,
    html_file: Annotated[Path | None, typer.Option(
        "--html", help="Also write all four reports as one self-contained HTML page.")]
    = None,
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
        data = rp.load(warehouse, parse_as_of(since) if since else None,
                       coverage=with_coverage)
        routing, workload, conflicts = rp.build_all(data, load_config(config))
        coverage = rp.coverage_report(data) if with_coverage else None
        fairness = rp.fairness_report(data.fairness) if data.fairness is not None else None
        if kind == "coverage":
            console.print("[dim]territory plan of the latest build (no window)[/]",
                          highlight=False)
        else:
            console.print(f"[dim]window: since {data.since:%Y-%m-%d %H:%M}[/]",
                          highlight=False)
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
            html_file.write_text(rp.render_html(routing, workload, conflicts, data.since,
                                                data.latest, coverage=coverage,
                                                fairness=fairness),
                                 encoding="utf-8")
            console.print(f"[green]✓[/] wrote {html_file}", highlight=False)

    _guarded(body)


def _frame_table(frame: object, title: str, limit: int = 60) -> Table:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        numeric = frame.schema[col].is_numeric()
        table.add_column(col.replace("_", " "), justify="right" if numeric else "left",
                         overflow="fold")
    shown = frame.head(limit).with_columns(pl.col(pl.Float32, pl.Float64).round(2))
    for row in shown.cast(pl.String).fill_null("—").iter_rows():
        table.add_row(*row)
    return table


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
    console.print(_frame_table(workload.teams, "Teams: average index and fairness of new "
                                               "assignments"))
    console.print(workload.headline(), highlight=False, soft_wrap=True)


def _print_fairness_report(fairness: object) -> None:
    from switchboard.report import FAIRNESS_WINDOWS, FairnessReport

    assert isinstance(fairness, FairnessReport)
    days = FAIRNESS_WINDOWS[0]
    console.print(_frame_table(fairness.window(days).select(
        "territory_id", "records", "max_abs_drift", "gini", "beyond_tolerance", "most_over",
        "most_under"),
                               f"Territory fairness, last {days} days (largest drift first)",
                               limit=20))
    console.print(fairness.headline(days), highlight=False, soft_wrap=True)


def _print_conflicts_report(conflicts: object) -> None:
    from switchboard.report import ConflictsReport

    assert isinstance(conflicts, ConflictsReport)
    console.print(_frame_table(conflicts.by_type, "Conflicts by type"))
    console.print(_frame_table(conflicts.by_resolution, "Conflicts by resolution"))
    console.print(_frame_table(conflicts.per_day, "Conflicts per day"))
    console.print(_frame_table(conflicts.recommendations.select("type", "evidence",
                                                                "recommendation"),
                               "Suggested rule changes"))
    console.print(conflicts.headline(), highlight=False, soft_wrap=True)


def _print_coverage_report(coverage: object) -> None:
    from switchboard.report import CoverageReport

    assert isinstance(coverage, CoverageReport)
    console.print(_frame_table(coverage.overlaps,
                               "Territories overlapping at equal priority (records both match)"))
    console.print(_frame_table(coverage.gaps, "Records no territory matches, by country"))
    console.print(_frame_table(coverage.unstaffed, "Territories without an available member"))
    console.print(coverage.headline(), highlight=False, soft_wrap=True)


@app.command()
def whatif(
    snapshot: Snapshot,
    config: Annotated[Path | None, typer.Option(
        "--config", help="The new routing.yml to try (default: the shipped one).")] = None,
    current_config: Annotated[Path | None, typer.Option(
        "--current-config",
        help="The routing.yml the book is routed with now, to compare against (default: "
             "the shipped one).")] = None,
    territories: Annotated[Path | None, typer.Option(
        help="The new territories.csv / .parquet to try.")] = None,
    members: Annotated[Path | None, typer.Option(
        help="New territory_members file, if any.")] = None,
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

    result = _run_flow(lambda: run_whatif(snapshot, warehouse, config_path=config,
                                          current_config=current_config,
                                          mapping=_mapping_arg(mapping),
                                          territories=territories, as_of=as_of,
                                          members=members, allow_backdated=allow_backdated,
                                          out=whatif_dir))
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
        return pl.format("{} → {}", pl.col(before).fill_null(0.0),
                         pl.col(after).fill_null(0.0))

    if diff.per_territory.height:
        console.print(_frame_table(diff.per_territory.select(
            territory=pl.format("{} ({})", "territory_name", "territory_id"),
            records_in="records_in", records_out="records_out", within="moved_within",
            max_deviation=arrow("max_deviation_before", "max_deviation_after"),
        ), f"Territories most affected (of {diff.per_territory.height})", WHATIF_TOP))
    if diff.per_rep.height:
        console.print(_frame_table(diff.per_rep.select(
            rep=pl.format("{} ({})", "rep_name", "rep_id"),
            records_in="records_in", records_out="records_out",
            workload=arrow("workload_before", "workload_after"),
        ), f"Reps most affected (of {diff.per_rep.height})", WHATIF_TOP))
    console.print(f"[bold]What-if {result.id}, nothing published.[/] {escape(result.headline())}",
                  highlight=False, soft_wrap=True)
    console.print(f"[dim]current: {escape(result.current)}\nnew:     {escape(result.proposed)}[/]",
                  highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    if result.folder is not None:
        console.print(f"[green]✓[/] every move in {result.folder / MOVES_FILE}, the page in "
                      f"{result.folder / PAGE_FILE}", highlight=False, soft_wrap=True)


def _may_open_browser(no_open: bool) -> bool:
    """Open a browser only for someone at a terminal: never with --no-open, in CI (CI set)
    or when stdin is not a TTY (a script, a scheduler, a test)."""
    return not no_open and not os.environ.get("CI") and sys.stdin.isatty()


@app.command()
def docs(
    warehouse: Warehouse = Path("warehouse.duckdb"),
    out: Annotated[Path, typer.Option(
        "--out", help="Folder for the site's index.html.")] = Path("dbt-docs"),
    config: ConfigOpt = None,
    no_open: Annotated[bool, typer.Option(
        "--no-open", help="Do not open the site in a browser.")] = False,
    wait: Wait = 0,
) -> None:
    """Build dbt's documentation of the warehouse (every model, column, test and the
    lineage) as one static page, and open it in a browser."""
    _config_option(config)
    if not warehouse.is_file():
        _fail(f"warehouse {warehouse} is not a file: route an export into it first "
              "(switchboard run hourly)", EXIT_INPUT)

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
    console.print(f"[green]✓[/] dbt docs of {warehouse}: {page}", highlight=False,
                  soft_wrap=True)
    if _may_open_browser(no_open):
        import webbrowser

        webbrowser.open(page.as_uri())


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
