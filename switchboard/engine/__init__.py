"""The routing engine: rule hierarchy, conflicts, capacity-aware placement, redistribution.

Pure Polars over the marts (see docs/ARCHITECTURE.md, "The engine contract"); it imports
neither DuckDB nor Prefect, so it runs the same in a flow, a test or a notebook.
"""

from __future__ import annotations

from switchboard.engine.inputs import EngineInputError, EngineInputs
from switchboard.engine.router import EngineResult, route

__all__ = ["EngineInputError", "EngineInputs", "EngineResult", "route"]
