"""Snapshot folder → `raw.<entity>` tables, with every contract-breaking row quarantined.

A snapshot is a folder holding `<entity>.csv` or `<entity>.parquet` per contract. Ingest
reads each file as text, maps its headers to contract columns through the contract's
aliases (or a header mapping's headers and value formats, see switchboard.mapping),
normalises and casts the values, and evaluates the contract's expectations (the same
:func:`switchboard.quality.specs.raw_specs` the GX suites are built from) as one vectorised
Polars pipeline. Rows that break an expectation go to `raw.quarantine`, one row per
(row, column, expectation), and the run goes on with the rest; `input_rows = loaded_rows
+ quarantined_rows` holds for every entity.

A CSV line with more fields than the header is such a row too (expectation
`expect_row_field_count_to_equal_header` on column `_row`), not a reason to drop the file.

Structural problems are different: a missing required file or column, an unreadable file
(an unterminated quote, say) or two headers claiming one column stop the run with
:class:`SnapshotError`, raised before anything is written. Lines whose every field is
empty are not data rows (they still count for row numbering, so `_row_number` matches
the record position in the file).

The modules, by job: `read` (files, encodings, headers), `parse` (text to contract
types), `validate` (the contract checks and quarantine reasons), `load` (the warehouse
writes, in one transaction), `snapshot` (a full load, and `switchboard check`),
`arrivals` (an arrivals pass's load) and `result` (what an ingest did).
"""

from switchboard.ingest.arrivals import ingest_arrivals
from switchboard.ingest.result import EntityReport, IngestReport
from switchboard.ingest.snapshot import check_snapshot, ingest_snapshot

__all__ = ["EntityReport", "IngestReport", "check_snapshot", "ingest_arrivals", "ingest_snapshot"]
