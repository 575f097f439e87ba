"""The engine's inputs as a real run reads them from a generated org's DuckDB warehouse."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from switchboard import engine, stages
from switchboard.config import RoutingConfig, load_config
from switchboard.engine import EngineInputs, EngineResult


@dataclass(frozen=True)
class Captured:
    """What the route stage handed the engine, and what the engine returned."""

    inputs: EngineInputs
    config: RoutingConfig
    options: dict[str, Any]
    result: EngineResult
    warehouse: Path  # the run's DuckDB warehouse, after the run
    built: Path  # a copy of it as the dbt build left it, before the route stage


def captured_run(folder: Path, *, accounts: int, seed: int, as_of: datetime) -> Captured:
    """Generate an org, run its hourly routing end to end (ingest, dbt, engine) and return
    the engine's inputs as the route stage read them from the warehouse, with a copy of the
    warehouse as the dbt build left it (what another target's build starts from)."""
    from switchboard import pipeline
    from switchboard.generate import generate_org

    snapshot = folder / "org"
    generate_org(snapshot, accounts=accounts, seed=seed, as_of=as_of)
    seen: list[Captured] = []
    real = engine.route

    def capture(inputs: EngineInputs, config: RoutingConfig, **options: Any) -> EngineResult:
        result = real(inputs, config, **options)
        seen.append(Captured(inputs, config, options, result, Path(), Path()))
        return result

    warehouse_path = folder / "w.duckdb"
    built = folder / "built.duckdb"

    def copy_after_build(stage: stages.Stage, *args: Any) -> Any:
        returned = stages.run_direct(stage, *args)
        if stage is stages.TRANSFORM:
            for suffix in ("", ".wal"):  # the build's connection may leave a log
                source = warehouse_path.with_name(warehouse_path.name + suffix)
                if source.exists():
                    shutil.copyfile(source, built.with_name(built.name + suffix))
        return returned

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "route", capture)
        ctx = pipeline.make_context(
            snapshot=snapshot,
            warehouse_path=warehouse_path,
            outbox=folder / "outbox",
            config=load_config(),
            as_of=as_of,
            allow_backdated=True,
        )
        stages.run(ctx, copy_after_build)
    (captured,) = seen
    return replace(captured, warehouse=warehouse_path, built=built)
