"""Stage checks: Great Expectations suites built from data, run on pandas frames.

Every stage that hands data to the next (raw snapshot, marts, engine output) states what
that data must obey as a list of :class:`ExpectationSpec` and validates it here. A failed
check raises :class:`StageCheckFailed`, which names the stage, the failed expectations and
a few offending rows, so the flow can stop before anything is published.

The raw suites come from the data contracts (:func:`raw_specs`); ingest evaluates the
same specs row by row in Polars to quarantine bad rows, and :func:`check_raw` re-checks
the loaded tables with GX as a second, independent implementation of the contract.

Great Expectations is imported lazily: it costs seconds to import, and modules that only
catch :class:`StageCheckFailed` (CLI, flows, guards) should not pay for it.

The package's modules: specs (expectations as data, and the GX suites built from them),
gx (importing GX and its one in-memory context), runner (validating a frame, failures
that name the rows) and stages (the checks of the raw, marts and engine stages).
"""

from __future__ import annotations

from switchboard.quality.runner import StageCheckFailed
from switchboard.quality.stages import check_engine_output, check_marts, check_raw

__all__ = ["StageCheckFailed", "check_engine_output", "check_marts", "check_raw"]
