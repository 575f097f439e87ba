"""How a command runs: the one-line failure and its exit code, a run's plain function or
Prefect flow, the progress and summary it prints."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from switchboard import progress

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

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


def _set_debug(debug: bool) -> None:
    """Record --debug for the command being run (the app's callback calls it)."""
    global _debug  # noqa: PLW0603 - one flag for the whole command line, read by _guarded
    _debug = debug


def _fail(message: str, code: int, error: BaseException | None = None) -> None:
    if _debug and error is not None:
        sys.stderr.write("".join(traceback.format_exception(error)))
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


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
        ConfigError,
        FileNotFoundError,
        AsOfError,
        SnapshotError,
        InputError,
    )
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
        _fail(
            f"unexpected {name}{': ' + first if first else ''} "
            "(run with --debug for the traceback)",
            EXIT_UNEXPECTED,
        )
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
    from switchboard.rules import RULE_LABELS
    from switchboard.summary import RunSummary

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
    candidates = [
        Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml"),
        Path(".env"),
        Path("prefect.toml"),
    ]
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

    return cast(
        Callable[..., Any],
        {
            "hourly": flows.hourly_routing.hourly_routing,
            "departure": flows.departure_redistribution.departure_redistribution,
            "arrivals": flows.arrivals.arrivals,
            "territory_change": flows.territory_change.territory_change,
            "ingest": flows.ingest.ingest,
        }[name],
    )


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


def _frame_table(frame: object, title: str, limit: int = 60) -> Table:
    """A Polars frame as a Rich table: its first `limit` rows, numbers right-aligned and
    floats to two decimals."""
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        numeric = frame.schema[col].is_numeric()
        table.add_column(
            col.replace("_", " "), justify="right" if numeric else "left", overflow="fold"
        )
    shown = frame.head(limit).with_columns(pl.col(pl.Float32, pl.Float64).round(2))
    for row in shown.cast(pl.String).fill_null("—").iter_rows():
        table.add_row(*row)
    return table
