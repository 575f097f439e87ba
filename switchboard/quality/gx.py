"""Great Expectations itself: imported lazily (with the submodules it rarely needs deferred),
and the one ephemeral context with a pandas data source every validation uses."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition

# Submodules GX imports when it loads (`from scipy import stats`) but only a few
# expectations use (KL divergence and the KS tests); no stage check here uses them.
# scipy.stats took about 1 s of GX's 3.5 s import on this project's machine
# (`python -X importtime -c "import great_expectations"`).
_DEFERRED_BY_GX = ("scipy.stats",)


def import_great_expectations() -> Any:
    """Import GX with the submodules of `_DEFERRED_BY_GX` loaded lazily.

    Each is registered with the standard library's LazyLoader and set on its package, so
    `from package import name` finds it without the import machinery, which would read an
    attribute and so execute it; it runs when code first reads one of its attributes (a
    KL-divergence check would). A module already imported, or not installed, is left as
    it is.
    """
    if "great_expectations" not in sys.modules:
        for name in _DEFERRED_BY_GX:
            package, _, child = name.rpartition(".")
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)  # imports the package itself
            if spec is None or spec.loader is None:
                continue
            spec.loader = importlib.util.LazyLoader(spec.loader)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            setattr(sys.modules[package], child, module)
    return importlib.import_module("great_expectations")


_gx_lock = threading.Lock()


@cache
def _batch_definition() -> BatchDefinition:
    """One ephemeral context with a pandas data source, reused by every validation.

    Progress bars and INFO logging are switched off, and so is GX's fingerprint of
    in-memory frames: it hashes every row of every frame under 1 GB (twice per
    validation), which costs more than the checks themselves and is only batch metadata.
    """
    gx = import_great_expectations()
    import great_expectations.execution_engine.pandas_execution_engine as pandas_engine
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins some of its module loggers at INFO (one announces a temporary docs folder
    # per context), so the parent's level is not enough.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    pandas_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("switchboard").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")
