"""bench/run.py times every hourly stage in-process; bench/results.py renders the table."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_stage_timing_at_a_tiny_size(tmp_path: Path) -> None:
    bench = _bench_module()
    messages: list[str] = []
    result = bench.bench_size(
        300,
        1,
        command="pytest",
        process=False,
        arrivals=False,
        departure=False,
        reps=30,
        territories=15,
        data=tmp_path / "data",
        out=tmp_path / "out",
        say=messages.append,
    )

    from bench.results import STAGES, size_table  # on the path once bench/run.py is loaded

    assert set(result.stages) == set(STAGES)
    assert all(len(times) == 1 and times[0] > 0 for times in result.stages.values())
    assert result.decisions > 0
    assert result.median("hourly_total") > 0
    assert result.median("engine") > 0
    assert result.median("floor") > 0

    table = size_table(result)
    for stage in STAGES:
        row = next(line for line in table.splitlines() if f"`{stage}`" in line)
        seconds = float(row.rstrip(" |").rsplit("|", 1)[1])
        assert seconds >= 0
    total = re.search(r"\*\*hourly stages total\*\* \| \*\*([0-9.]+)\*\*", table)
    assert total is not None and float(total.group(1)) > 0
    assert "hourly / floor" in table
    assert any("hourly" in message for message in messages)
