"""The run lock across real processes: refusal, waiting, and release when a holder dies."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Iterator
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from switchboard.warehouse import WarehouseLocked, run_lock

SPAWN: SpawnContext = mp.get_context("spawn")
STARTUP = 60.0  # a spawned interpreter imports polars and duckdb before taking the lock


def hold(warehouse: str, taken: Event, release: Event) -> None:
    """Take the lock, say so, and keep it until told to let go (or until killed)."""
    with run_lock(warehouse):
        taken.set()
        release.wait(STARTUP)


def take(warehouse: str, wait_seconds: float, results: mp.Queue) -> None:
    """Try the lock once from another process; report what happened."""
    try:
        with run_lock(warehouse, wait_seconds=wait_seconds):
            results.put(("taken", os.getpid()))
    except WarehouseLocked as error:
        results.put(("locked", str(error)))


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "w.duckdb")


@pytest.fixture
def holder(warehouse: str) -> Iterator[tuple[mp.process.BaseProcess, Event]]:
    taken, release = SPAWN.Event(), SPAWN.Event()
    process = SPAWN.Process(target=hold, args=(warehouse, taken, release))
    process.start()
    try:
        assert taken.wait(STARTUP), "the holder never took the lock"
        yield process, release
    finally:
        if process.is_alive():
            # Never set the event once the holder is killed: Event.set waits for every
            # waiter to wake, and a SIGKILLed waiter never does.
            release.set()
            process.join(STARTUP)
        if process.is_alive():
            process.kill()
            process.join()


def outcome(warehouse: str, wait_seconds: float) -> tuple[str, object]:
    results: mp.Queue = SPAWN.Queue()
    process = SPAWN.Process(target=take, args=(warehouse, wait_seconds, results))
    process.start()
    try:
        result: tuple[str, object] = results.get(timeout=STARTUP + wait_seconds)
    finally:
        process.join(STARTUP)
    assert process.exitcode == 0
    return result


def test_second_process_without_wait_is_refused_with_a_clear_message(
    warehouse: str, holder: tuple[mp.process.BaseProcess, Event]
) -> None:
    process, _ = holder
    status, message = outcome(warehouse, 0)
    assert status == "locked"
    assert isinstance(message, str)
    assert warehouse in message and "is in use" in message
    assert f"pid {process.pid}" in message  # names the holder
    assert "--wait" in message  # and says what to do


def test_second_process_with_a_wait_proceeds_once_the_first_releases(
    warehouse: str, holder: tuple[mp.process.BaseProcess, Event]
) -> None:
    process, release = holder
    results: mp.Queue = SPAWN.Queue()
    waiter = SPAWN.Process(target=take, args=(warehouse, STARTUP, results))
    waiter.start()
    with pytest.raises(WarehouseLocked):  # still held: this process is refused meanwhile
        with run_lock(warehouse):
            pass
    release.set()
    process.join(STARTUP)
    status, pid = results.get(timeout=STARTUP * 2)
    waiter.join(STARTUP)
    assert (status, pid) == ("taken", waiter.pid)


def test_lock_is_released_when_the_holder_is_killed(
    warehouse: str, holder: tuple[mp.process.BaseProcess, Event]
) -> None:
    process, _ = holder
    assert outcome(warehouse, 0)[0] == "locked"
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(STARTUP)
    assert process.exitcode == -signal.SIGKILL
    assert outcome(warehouse, 0)[0] == "taken"
    with run_lock(warehouse):  # and so does this process, with no wait at all
        pass
