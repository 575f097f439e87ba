"""Faults of the machine in one line: the root cause and the path, found anywhere in the
exception chain, exit code 6; --debug shows the traceback; anything unexpected is one line
and exit 1 (or, with --debug, the exception itself)."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from switchboard import reference
from switchboard.cli import EXIT_INFRA, EXIT_UNEXPECTED, app
from switchboard.faults import exception_chain, infrastructure_fault
from tests.mounts import tmpfs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()

FULL_WAL = (
    'Failed to commit: Could not write file "/mnt/tiny/w.duckdb.wal": No space left on device'
)


def full_disk_then_failed_rollback(hidden: bool = False) -> BaseException:
    """What DuckDB leaves on a full disk inside a transaction: the commit fails, and the
    rollback in the caller's `except` fails too, so the exception raised blames the
    rollback and the full disk is its __context__ (`hidden`: raised `from None`)."""
    rollback = duckdb.TransactionException(
        "TransactionContext Error: cannot rollback - no transaction is active"
    )
    try:
        try:
            raise duckdb.TransactionException(f"TransactionContext Error: {FULL_WAL}")
        except duckdb.Error:
            if hidden:
                raise rollback from None
            raise rollback  # noqa: B904 - as the rollback in an `except` block does
    except duckdb.Error as error:
        return error


@pytest.mark.parametrize("hidden", [False, True])
def test_a_full_disk_is_found_behind_the_rollback_that_hides_it(hidden: bool) -> None:
    error = full_disk_then_failed_rollback(hidden)
    assert "rollback" in str(error)
    assert len(exception_chain(error)) == 2
    fault = infrastructure_fault(error)
    assert fault is not None
    assert fault.reason == "no space left on device"
    assert fault.path == "/mnt/tiny/w.duckdb.wal"
    assert fault.line().startswith("no space left on device writing /mnt/tiny/w.duckdb.wal;")


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/srv/outbox/r1/.alerts.jsonl.tmp"),
            "no space left on device writing /srv/outbox/r1/.alerts.jsonl.tmp",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/srv/w.duckdb.lock"),
            "read-only file system: /srv/w.duckdb.lock",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/outbox"),
            "permission denied: /srv/outbox",
        ),
        (
            duckdb.IOException('IO Error: Cannot open file "/ro/w.duckdb": Read-only file system'),
            "read-only file system: /ro/w.duckdb",
        ),
        (
            duckdb.IOException('IO Error: Cannot open file "/srv/w.duckdb": Permission denied'),
            "permission denied: /srv/w.duckdb",
        ),
        (
            RuntimeError(
                "dbt build failed: 1 of 90 nodes failed (stg_crm__accounts)\n  model "
                f"[error]: IO Error: {FULL_WAL}"
            ),
            "no space left on device writing /mnt/tiny/w.duckdb.wal",
        ),
    ],
)
def test_each_fault_reads_as_its_cause_and_path(error: BaseException, line: str) -> None:
    fault = infrastructure_fault(error)
    assert fault is not None and fault.line().startswith(line + ";")


def test_a_fault_without_a_path_still_names_its_cause() -> None:
    fault = infrastructure_fault(OSError(errno.ENOSPC, "No space left on device"))
    assert fault is not None
    assert fault.line().startswith("no space left on device (No space left on device)")


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad value"),
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"),
        duckdb.CatalogException("Catalog Error: Table with name x does not exist!"),
    ],
)
def test_other_failures_are_not_faults_of_the_machine(error: BaseException) -> None:
    assert infrastructure_fault(error) is None


def test_a_chain_that_loops_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert exception_chain(first) == [first, second]
    assert infrastructure_fault(first) is None


# ---------------------------------------------------------------- through the command line


def check(warehouse: Path, *options: str) -> object:
    return runner.invoke(
        app,
        [
            *options,
            "check",
            "--snapshot",
            str(FIXTURES / "broken_snapshot"),
            "--warehouse",
            str(warehouse),
        ],
    )


def test_a_read_only_warehouse_is_one_line_and_exit_6(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro") as folder:
        result = check(folder / "check.duckdb")
    assert result.exit_code == EXIT_INFRA, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: read-only file system: {folder}/check.duckdb")
    assert "Traceback" not in result.output


def test_a_full_disk_is_one_line_and_exit_6(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "tiny", "size=1m") as folder:
        result = check(folder / "check.duckdb")
    assert result.exit_code == EXIT_INFRA, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: no space left on device writing {folder}/")
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback_and_keeps_the_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: object) -> None:
        raise full_disk_then_failed_rollback()

    monkeypatch.setattr(reference, "load_reference_tables", full)
    plain = check(tmp_path / "c.duckdb")
    flagged = check(tmp_path / "c.duckdb", "--debug")
    monkeypatch.setenv("SWITCHBOARD_DEBUG", "1")
    from_env = check(tmp_path / "c.duckdb")
    assert plain.exit_code == flagged.exit_code == from_env.exit_code == EXIT_INFRA
    assert plain.stderr.strip() == (
        "error: no space left on device writing /mnt/tiny/w.duckdb.wal; free some space "
        "there and run again"
    )
    for debugged in (flagged, from_env):
        assert "Traceback (most recent call last)" in debugged.stderr
        assert "cannot rollback" in debugged.stderr and "No space left" in debugged.stderr
        assert debugged.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def test_an_unexpected_error_is_one_line_or_with_debug_the_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_: object) -> None:
        raise KeyError("[country_code] missing")

    monkeypatch.setattr(reference, "load_reference_tables", bug)
    plain = check(tmp_path / "c.duckdb")
    assert plain.exit_code == EXIT_UNEXPECTED == 1
    (line,) = plain.stderr.strip().splitlines()
    assert line == (
        "error: unexpected KeyError: '[country_code] missing' (run with --debug for the traceback)"
    )
    flagged = check(tmp_path / "c.duckdb", "--debug")
    assert flagged.exit_code == 1
    assert isinstance(flagged.exception, KeyError)
