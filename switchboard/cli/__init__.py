"""The `switchboard` command line (Typer + Rich).

One job per module: `options` (the shared options and the checks that stop a mistaken one
before anything starts), `running` (how a command runs a run, fails in one line, prints
progress and summaries), and the commands by group: `data` (generate, check, ingest,
publish), `routing` (run …, demo, serve), `reports` (report, whatif, docs). This module
holds the app and registers them. Heavy libraries are imported inside the functions that
need them, so `switchboard --help` and a mistaken option answer at once.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import switchboard  # (also switches telemetry off before anything else loads)
from switchboard.cli import data, reports, routing
from switchboard.cli.running import (
    EXIT_CHECK,
    EXIT_GUARD,
    EXIT_INFRA,
    EXIT_INPUT,
    EXIT_LOCKED,
    EXIT_PENDING,
    EXIT_UNEXPECTED,
    _set_debug,
    console,
    err,
)

__all__ = [
    "EXIT_CHECK",
    "EXIT_GUARD",
    "EXIT_INFRA",
    "EXIT_INPUT",
    "EXIT_LOCKED",
    "EXIT_PENDING",
    "EXIT_UNEXPECTED",
    "app",
    "main",
]

app = typer.Typer(
    name="switchboard",
    help="Route every account and lead to the right owner, and log why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
run_app = typer.Typer(help="Run a routing flow.", no_args_is_help=True)
app.add_typer(run_app, name="run")


def _print_version(value: bool) -> None:
    if value:
        console.print(
            f"switchboard {switchboard.__version__} (engine {switchboard.ENGINE_VERSION})",
            highlight=False,
        )
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="SWITCHBOARD_DEBUG",
            help="On a failure, show the full traceback, not just the one-line error.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    _set_debug(debug)


# The commands, in the order `switchboard --help` lists them (the `run` group last).
app.command()(data.generate)
app.command()(data.check)
app.command()(data.ingest)
app.command("publish")(data.publish_messages)
run_app.command("hourly")(routing.run_hourly)
run_app.command("departure")(routing.run_departure)
run_app.command("arrivals")(routing.run_arrivals)
run_app.command("territory-change")(routing.run_territory_change)
app.command()(routing.demo)
app.command()(routing.serve)
app.command()(reports.report)
app.command()(reports.whatif)
app.command()(reports.docs)


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
