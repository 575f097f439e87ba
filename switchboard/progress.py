"""Stage progress events, so the CLI can show each stage as it runs without the
library knowing about terminals (or Prefect knowing about Rich)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, str, float], None]  # (stage, event: start|done|failed, seconds)
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


@contextmanager
def stage(name: str) -> Iterator[None]:
    for listener in list(_listeners):
        listener(name, "start", 0.0)
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        for listener in list(_listeners):
            listener(name, "failed", time.perf_counter() - started)
        raise
    for listener in list(_listeners):
        listener(name, "done", time.perf_counter() - started)
