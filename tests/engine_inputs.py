"""The engine's inputs as a real run reads them from a generated org's DuckDB warehouse."""

from __future__ import annotations

from dataclasses import dataclass
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


def captured_run(folder: Path, *, accounts: int, seed: int, as_of: datetime) -> Captured:
    """Generate an org, run its hourly routing end to end (ingest, dbt, engine) and return
    the engine's inputs as the route stage read them from the warehouse."""
    from switchboard import pipeline
    from switchboard.generate import generate_org

    snapshot = folder / "org"
    generate_org(snapshot, accounts=accounts, seed=seed, as_of=as_of)
    seen: list[Captured] = []
    real = engine.route

    def capture(inputs: EngineInputs, config: RoutingConfig, **options: Any) -> EngineResult:
        result = real(inputs, config, **options)
        seen.append(Captured(inputs, config, options, result))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "route", capture)
        ctx = pipeline.make_context(
            snapshot=snapshot,
            warehouse_path=folder / "w.duckdb",
            outbox=folder / "outbox",
            config=load_config(),
            as_of=as_of,
            allow_backdated=True,
        )
        stages.run(ctx)
    (captured,) = seen
    return captured
