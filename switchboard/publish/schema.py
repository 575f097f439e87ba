"""The publishing tables: the outbox messages, the marts' builds and the routing alerts
(their schemas, ``LEDGER_TABLES``), created or widened by ``ensure_tables``; the
reassignments file's columns."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from switchboard import data_tests, tables, warehouse
from switchboard.alerts import ALERTS

MESSAGES: dict[str, pl.DataType] = {
    "message_key": pl.String(),
    "run_id": pl.String(),
    "kind": pl.String(),  # reassignment | review | alert | summary
    "sink": pl.String(),  # file | webhook | email | teams
    "payload": pl.String(),
    "status": pl.String(),  # pending | sent
    "attempts": pl.Int64(),
    "last_error": pl.String(),
    "created_at": pl.Datetime("us"),
    "sent_at": pl.Datetime("us"),
}
ROUTING_ALERTS = {**ALERTS}
# The marts' build: build_key (null while raw is newer than the marts), the full load it
# was made from (raw_run_id, null while a build is under way) and the settings it was made
# under (switchboard.changes.settings_key), and how: incremental or full, and why.
BUILDS: dict[str, pl.DataType] = {
    "build_key": pl.String(),
    "built_at": pl.Datetime("us"),
    "raw_run_id": pl.String(),
    "settings_key": pl.String(),
    "build": pl.String(),
}
# routing.runs (RUNS) is created with the engine's tables by warehouse.ensure_routing_tables:
# the dbt project reads it.
LEDGER_TABLES = {
    tables.BUILDS: BUILDS,
    tables.DATA_TESTS: data_tests.DATA_TESTS,
    tables.OUTBOX_MESSAGES: MESSAGES,
    tables.ALERTS: ROUTING_ALERTS,
}
# reassignments.csv: every decision that gives a record a new owner or queue, both objects,
# in Switchboard's ids and queue names (for analysts; the CRM takes switchboard.writeback's).
REASSIGNMENT_COLUMNS = [
    "record_type",
    "record_id",
    "old_owner_id",
    "new_owner_id",
    "queue",
    "rule",
    "reason",
]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.ensure_routing_tables(con)
    for name, schema in LEDGER_TABLES.items():
        if not warehouse.table_exists(con, name):
            warehouse.write_table(con, name, pl.DataFrame(schema=schema))
        else:
            warehouse.add_missing_columns(con, name, schema)
