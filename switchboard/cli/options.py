"""The options commands share, and the checks that stop a mistaken one in one line
(EXIT_INPUT) before Prefect, dbt, Great Expectations or the warehouse start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from switchboard.cli.running import EXIT_INPUT, _fail

Warehouse = Annotated[Path, typer.Option(help="DuckDB warehouse file.")]
Outbox = Annotated[Path, typer.Option(help="Folder for outbox/<run_id>/ files.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="routing.yml (default: the shipped one).")
]
MappingOpt = Annotated[
    str | None,
    typer.Option(
        "--mapping",
        metavar="PRESET|FILE",
        help="How the export's headers and values map to the contracts: a preset (hubspot, "
        "salesforce-report) or a mapping.yml; replaces routing.yml's `mapping:`.",
    ),
]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="ISO timestamp that fixes 'now' (default: now, UTC).")
]
Snapshot = Annotated[
    Path, typer.Option(help="Snapshot folder: one <entity>.csv or .parquet per entity.")
]
Wait = Annotated[float, typer.Option("--wait", help="Seconds to wait for a running run.")]
AllowBackdated = Annotated[
    bool,
    typer.Option(
        "--allow-backdated",
        help="Accept an as-of earlier than the export's records or more than a day ahead of "
        "now (a deliberate replay).",
    ),
]


def _known_guards(names: list[str] | None) -> list[str]:
    """An unknown guard name is an input mistake like a bad --as-of: one line, EXIT_INPUT
    (not Click's usage error, whose exit 2 would read as a failed check)."""
    import difflib

    from switchboard.guards import GUARD_NAMES

    for name in names or ():
        if name not in GUARD_NAMES:
            close = difflib.get_close_matches(name, GUARD_NAMES, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            _fail(
                f"--accept-guard {name} is not a guard that can be accepted: {hint}"
                f"the guards are {', '.join(GUARD_NAMES)}",
                EXIT_INPUT,
            )
    return names or []


WhatIfDir = Annotated[
    Path,
    typer.Option("--whatif-dir", help="Folder for whatif/<id>/ files (moves.csv, index.html)."),
]
AcceptGuard = Annotated[
    list[str] | None,
    typer.Option(
        "--accept-guard",
        callback=_known_guards,
        metavar="GUARD",
        help="Accept this guard for this run only (repeatable): the stop message names it.",
    ),
]


def _time_option(value: str | None, option: str = "--as-of", *, check_future: bool = False) -> None:
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
        _fail(
            f"--accounts {accounts}: the generated org needs at least {MIN_ACCOUNTS} accounts",
            EXIT_INPUT,
        )


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


def _rep_option(
    snapshot: Path, rep: str, config: Path | None = None, mapping: str | None = None
) -> None:
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
