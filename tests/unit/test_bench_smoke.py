"""bench/run.py times every hourly stage in-process; bench/results.py renders the table."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

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


def _scale_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.dbt
def test_scale_measures_every_stage_and_reports_a_child_that_dies(tmp_path: Path) -> None:
    scale = _scale_module()
    results = tmp_path / "RESULTS.md"
    results.write_text("# Bench\n\n## Where one machine ends\n\nold\n\n## What is left\n\nkept\n")
    common = ["--reps", "30", "--territories", "15", "--activities", "2"]
    common += ["--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    common += ["--results", str(results)]
    # Any Python process with Polars and DuckDB is over 0.05 GiB: the guard kills it early.
    scale.main(["--sizes", "400", "--kill-gib", "0.05", *common])
    measured = scale.main(["--sizes", "300", *common])

    ok, dead = measured[300], measured[400]
    assert ok.outcome == "ok"
    names = [s["stage"] for s in ok.stages]
    assert names[0] == "generate" and names[-1] == "floor"
    for stage in ("ingest", "dbt build", "route", "check", "guards", "record", "publish"):
        assert stage in names
    assert all(s["seconds"] > 0 and s["peak_rss"] > 50 * 2**20 for s in ok.stages)
    assert ok.decisions > 0 and ok.floor is not None and ok.floor > 0
    assert 500 < ok.counts["activities"] < 700  # 2 per account
    assert not (tmp_path / "data" / "scale-org-300-a2").exists()  # a finished size's org goes

    assert dead.outcome.startswith("died: memory")
    assert dead.died_stage in ("start-up", "generate")  # imports, or the first stage
    assert dead.last_rss > 0.05 * 2**30 and not dead.stages

    text = results.read_text()
    assert text.count("## Where one machine ends") == 1 and "old" not in text
    assert text.endswith("## What is left\n\nkept\n")
    assert "| 300 | ok |" in text
    assert re.search(
        r"### 400 accounts: died: memory .* in `(start-up|generate)` at [0-9.]+ GiB", text
    )
    assert "| **ratio to the floor** |" in text
    assert "Fewer than two sizes finished" in text
    with pytest.raises(SystemExit):
        scale.parse(["--sizes", "100"])
