"""Publishing: the run ledger, routing.* tables, outbox files and the webhook sink.

Exactly-once rests on two keys:
- a run is identified by the fingerprint of its inputs (snapshot bytes, mode, parameters,
  rules_version). Re-running a published fingerprint publishes nothing; a run that died
  after its decisions were recorded resumes at publishing.
- every outbound message (reassignment, alert, run summary) has a ``message_key`` derived
  from its content. A key already in ``routing.outbox_messages`` is never queued again,
  and a queued message is delivered until it succeeds, whichever run gets it through.
Retries of the webhook live here and nowhere else.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb
import httpx
import polars as pl

from switchboard import data_tests, tables, warehouse, writeback
from switchboard.alerts import ALERTS
from switchboard.config.queues import Queues
from switchboard.config.sinks import Webhook
from switchboard.config.writeback import Writeback
from switchboard.engine.schema import CONFLICTS, RECORDED_DECISIONS, REP_STATE, ROUND_ROBIN, RUNS

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.ensure_routing_tables(con)
    for name, schema in LEDGER_TABLES.items():
        if not warehouse.table_exists(con, name):
            warehouse.write_table(con, name, pl.DataFrame(schema=schema))
        else:
            warehouse.add_missing_columns(con, name, schema)


# ---------------------------------------------------------------- run ledger


def fingerprint(snapshot: Path, *parts: object) -> str:
    """SHA-256 over the snapshot's file names and bytes plus the run's parameters."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(snapshot).iterdir() if p.is_file()):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    for part in parts:
        digest.update(b"\0" + str(part).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    status: str
    message: str | None


def find_run(con: duckdb.DuckDBPyConnection, fp: str) -> RunRecord | None:
    """The most recent run of this fingerprint that got past its decisions, if any."""
    rows = con.execute(
        "select run_id, status, message from routing.runs where fingerprint = ? "
        "and status in ('decided', 'published') order by started_at desc limit 1",
        [fp],
    ).fetchall()
    return RunRecord(*rows[0]) if rows else None


def find_started(con: duckdb.DuckDBPyConnection, fp: str) -> str | None:
    """The run_id of the latest run of this fingerprint still 'started': it died before
    recording its decisions, and a run on the same inputs runs it again under that id."""
    rows = con.execute(
        "select run_id from routing.runs where fingerprint = ? and status = 'started' "
        "order by started_at desc limit 1",
        [fp],
    ).fetchall()
    return str(rows[0][0]) if rows else None


def abandon_started(con: duckdb.DuckDBPyConnection, *, keep: str, noticed_by: str) -> list[str]:
    """Close as 'abandoned' every run still 'started' but ``keep`` (the run about to go on).

    Only a run holding the warehouse's run lock may call this: then no other process is
    running, so a run still 'started' is one whose process died (killed, or failed before
    recording its decisions), and it would otherwise read 'started' forever. Its records
    still in routing.arrival_scope stay there for the next pass (switchboard.ingest).
    Returns the run_ids closed.
    """
    now = _now()
    closed = [
        str(r[0])
        for r in con.execute(
            "select run_id from routing.runs where status = 'started' and run_id <> ? "
            "order by started_at",
            [keep],
        ).fetchall()
    ]
    if closed:
        con.execute(
            "update routing.runs set status = 'abandoned', message = ?, finished_at = ? "
            "where status = 'started' and run_id <> ?",
            [
                f"abandoned: still 'started' at {now:%Y-%m-%d %H:%M:%S} UTC, when run "
                f"{noticed_by} took the warehouse; its process ended (killed, or stopped by "
                "an error) before recording its decisions",
                now,
                keep,
            ],
        )
    return closed


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    fp: str,
    mode: str,
    snapshot: Path,
    as_of: datetime,
    rules_version: str,
    accepted_guards: Sequence[str] = (),
) -> None:
    row = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "fingerprint": fp,
                "mode": mode,
                "snapshot": str(snapshot),
                "as_of": as_of,
                "rules_version": rules_version,
                "status": "started",
                "message": None,
                "started_at": _now(),
                "finished_at": None,
                "accepted_guards": list(accepted_guards),
            }
        ],
        schema=RUNS,
    )
    con.execute("delete from routing.runs where run_id = ?", [run_id])
    warehouse.write_table(con, tables.RUNS, row, mode="append")


def set_status(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None
) -> None:
    con.execute(
        "update routing.runs set status = ?, message = ?, finished_at = ? where run_id = ?",
        [status, message, _now(), run_id],
    )


# ---------------------------------------------------------------- recording


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    decisions: pl.DataFrame,
    conflicts: pl.DataFrame,
    rep_state: pl.DataFrame,
    alerts: pl.DataFrame,
    round_robin: pl.DataFrame | None = None,
) -> None:
    """Write a run's decisions, conflicts, alerts and rep state (and where round-robin
    rotations stand) in one transaction and mark it decided. Rows of an earlier attempt
    of the same run are replaced, not duplicated.

    Decisions without ``input_hash`` (straight from the engine) are recorded with none: a
    queued record among them is decided again at the next run (switchboard.queued)."""
    if "input_hash" not in decisions.columns:
        decisions = decisions.with_columns(input_hash=pl.lit(None, pl.String()))
    con.execute("begin transaction")
    try:
        for table, frame, schema in (
            ("routing.decisions", decisions, RECORDED_DECISIONS),
            ("routing.conflicts", conflicts, CONFLICTS),
            ("routing.alerts", alerts, ALERTS),
        ):
            con.execute(f"delete from {table} where run_id = ?", [run_id])
            warehouse.write_table(con, table, frame.select(list(schema)), mode="append")
        if rep_state.height:
            warehouse.write_table(con, tables.REP_STATE, rep_state.select(list(REP_STATE)))
        if round_robin is not None:
            warehouse.write_table(con, tables.ROUND_ROBIN, round_robin.select(list(ROUND_ROBIN)))
        set_status(con, run_id, "decided")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def record_stopped(
    con: duckdb.DuckDBPyConnection, *, run_id: str, alerts: pl.DataFrame, message: str
) -> None:
    con.execute("delete from routing.alerts where run_id = ?", [run_id])
    warehouse.write_table(con, tables.ALERTS, alerts.select(list(ALERTS)), mode="append")
    set_status(con, run_id, "stopped", message)


# ---------------------------------------------------------------- outbox


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix cells a spreadsheet would evaluate (=, +, -, @, tab, CR) with a quote."""
    risky = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(
            pl.col(c).str.starts_with(_FORMULA_START[0]) | pl.col(c).str.contains(r"^[+\-@\t\r]")
        )
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in risky
    )


def _messages(
    run_id: str, kind: str, sink: str, keys: Iterable[str], payloads: Iterable[str]
) -> pl.DataFrame:
    keys, payloads = list(keys), list(payloads)
    now = _now()
    return pl.DataFrame(
        {
            "message_key": keys,
            "run_id": [run_id] * len(keys),
            "kind": [kind] * len(keys),
            "sink": [sink] * len(keys),
            "payload": payloads,
            "status": ["pending"] * len(keys),
            "attempts": [0] * len(keys),
            "last_error": [None] * len(keys),
            "created_at": [now] * len(keys),
            "sent_at": [None] * len(keys),
        },
        schema=MESSAGES,
    )


def _keyed(decisions: pl.DataFrame, queues: Queues) -> pl.DataFrame:
    """The decisions the files publish (writeback.payloads) with their message keys: a
    reassignment by record, old and new owner and queue, plus the queue's CRM id where
    routing.yml maps it (so mapping a queue publishes its records again); a manager review
    by record and the owner kept."""

    def joined(*parts: pl.Expr | str) -> pl.Expr:
        return pl.concat_str(
            [pl.col(p).fill_null("") if isinstance(p, str) else p for p in parts], separator="|"
        )

    mapped_queue = pl.col("new_owner_id").is_null() & pl.col("crm_owner_id").is_not_null()
    return writeback.payloads(decisions, queues).with_columns(
        key=pl.when(pl.col("kind") == "review")
        .then(joined(pl.lit("review"), "record_type", "record_id", "old_owner_id"))
        .when(mapped_queue)
        .then(
            joined(
                pl.lit("reassign"),
                "record_type",
                "record_id",
                "old_owner_id",
                "new_owner_id",
                "queue",
                "crm_owner_id",
            )
        )
        .otherwise(
            joined(
                pl.lit("reassign"),
                "record_type",
                "record_id",
                "old_owner_id",
                "new_owner_id",
                "queue",
            )
        )
    )


def queue_messages(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    decisions: pl.DataFrame,
    alerts: pl.DataFrame,
    queues: Queues | None = None,
) -> int:
    """Queue this run's outbox files' messages; keys already queued by any run are skipped.
    ``queues`` (routing.yml `queues:`) gives queue decisions their CRM owner ids for the
    write-back files. Returns how many messages are new. (The notification sinks'
    messages: switchboard.notify.)"""
    published = _keyed(decisions, queues or Queues())
    payload = pl.struct(list(writeback.PAYLOAD)).struct.json_encode()
    moves, reviews = (
        published.filter(pl.col("kind") == kind) for kind in ("reassignment", "review")
    )
    frames = [
        _messages(run_id, "reassignment", "file", moves["key"], moves.select(payload).to_series()),
        _messages(run_id, "review", "file", reviews["key"], reviews.select(payload).to_series()),
        _messages(
            run_id,
            "alert",
            "file",
            "file|" + alerts["alert_key"],
            alerts.select(pl.struct(pl.all()).struct.json_encode()).to_series(),
        ),
    ]
    candidates = pl.concat(frames)
    existing = con.sql("select message_key from routing.outbox_messages").pl()
    fresh = candidates.join(existing, on="message_key", how="anti").unique(
        "message_key", keep="first", maintain_order=True
    )
    warehouse.write_table(con, tables.OUTBOX_MESSAGES, fresh, mode="append")
    return fresh.height


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        # A failed write (a full disk) names no file; the one-line error should.
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(tmp)) from exc
        raise


def write_outbox(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    outbox: Path,
    summary_markdown: str,
    writeback_settings: Writeback | None = None,
) -> Path:
    """Write outbox/<run_id>/ from the messages this run queued first: reassignments.csv,
    the write-back files (switchboard.writeback: Account.csv, Lead.csv, review.csv, shaped
    by routing.yml `writeback:`), alerts.jsonl and summary.md. Rewriting is harmless: the
    files always hold exactly this run's new messages."""
    folder = Path(outbox) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    mine = warehouse.query(
        con,
        "select kind, payload from routing.outbox_messages "
        "where run_id = ? and sink = 'file' order by message_key",
        [run_id],
    )
    published = mine.filter(pl.col("kind").is_in(["reassignment", "review"]))
    table = (
        published.select(
            "kind", pl.col("payload").str.json_decode(pl.Struct(writeback.PAYLOAD)).struct.unnest()
        )
        if published.height
        else pl.DataFrame(schema={"kind": pl.String(), **writeback.PAYLOAD})
    )
    moves = table.filter(pl.col("kind") == "reassignment").select(REASSIGNMENT_COLUMNS)
    _atomic_write(folder / "reassignments.csv", neutralise_formulas(moves).write_csv())
    for name, frame in writeback.files(table, writeback_settings or Writeback()).items():
        _atomic_write(folder / name, neutralise_formulas(frame).write_csv())
    _write_alert_lines(folder, mine.filter(pl.col("kind") == "alert")["payload"].to_list())
    _atomic_write(folder / "summary.md", summary_markdown)
    con.execute(
        "update routing.outbox_messages set status = 'sent', sent_at = ? "
        "where run_id = ? and sink = 'file' and status = 'pending'",
        [_now(), run_id],
    )
    return folder


def _write_alert_lines(folder: Path, lines: list[str]) -> None:
    _atomic_write(folder / "alerts.jsonl", "".join(line + "\n" for line in lines))


def raise_alerts(
    con: duckdb.DuckDBPyConnection, *, run_id: str, alerts: pl.DataFrame, outbox: Path
) -> int:
    """Alerts raised after a run recorded its own (about delivery, say): those whose key is
    new join routing.alerts and the run's outbox/<run_id>/alerts.jsonl, which is rewritten
    with every file alert of the run. Returns how many were new."""
    if not alerts.height:
        return 0
    known = warehouse.query(
        con,
        "select message_key from routing.outbox_messages "
        "where message_key in (select unnest(?::varchar[]))",
        [("file|" + alerts["alert_key"]).to_list()],
    )
    fresh = alerts.filter(~("file|" + pl.col("alert_key")).is_in(known["message_key"]))
    if not fresh.height:
        return 0
    queue_messages(
        con, run_id=run_id, decisions=pl.DataFrame(schema=RECORDED_DECISIONS), alerts=fresh
    )
    warehouse.write_table(con, tables.ALERTS, fresh.select(list(ALERTS)), mode="append")
    folder = Path(outbox) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    lines = warehouse.query(
        con,
        "select payload from routing.outbox_messages where run_id = ? and sink = 'file' "
        "and kind = 'alert' order by message_key",
        [run_id],
    )["payload"].to_list()
    _write_alert_lines(folder, lines)
    con.execute(
        "update routing.outbox_messages set status = 'sent', sent_at = ? "
        "where run_id = ? and sink = 'file' and kind = 'alert' and status = 'pending'",
        [_now(), run_id],
    )
    return fresh.height


def write_summary(outbox: Path, run_id: str, summary_markdown: str) -> bool:
    """Rewrite outbox/<run_id>/summary.md, where the run wrote one, when its text changed (a
    note on pending deliveries came or went). Returns whether it wrote."""
    path = Path(outbox) / run_id / "summary.md"
    if not path.is_file() or path.read_text(encoding="utf-8") == summary_markdown:
        return False
    _atomic_write(path, summary_markdown)
    return True


# ---------------------------------------------------------------- webhook


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery attempt achieved: messages sent (their keys, in order), messages
    still pending afterwards, and the error that stopped it (None when nothing failed)."""

    sent: int
    pending: int
    error: str | None = None
    delivered: tuple[str, ...] = ()
    sinks: tuple[str, ...] = ()  # the sinks messages are still pending for (notify.deliver)


NO_WEBHOOK_URL = "no webhook URL (set sinks.webhook.url or SWITCHBOARD_WEBHOOK_URL)"


def webhook_url(config: Webhook) -> str | None:
    return os.environ.get("SWITCHBOARD_WEBHOOK_URL") or config.url


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


def post_with_retries(
    client: httpx.Client, url: str, payload: str, key: str, config: Webhook, sleep: float = 30.0
) -> str | None:
    """POST one message; return None when delivered, else the last error.

    Retries connection errors, timeouts, 429 and 5xx with exponential backoff (honouring
    Retry-After up to ``sleep`` seconds); 4xx other than 429 is final for this run.
    """
    error = "not attempted"
    for attempt in range(config.max_attempts):
        delay = config.backoff_seconds * (2**attempt)
        try:
            response = client.post(
                url,
                content=payload,
                headers={"content-type": "application/json", "idempotency-key": key},
                timeout=config.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code < 300:
                return None
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                return error
            delay = _retry_after(response) or delay
        if attempt + 1 < config.max_attempts:
            time.sleep(min(delay, sleep))
    return error


def deliver_webhooks(con: duckdb.DuckDBPyConnection, config: Webhook) -> DeliveryReport:
    """Send every pending webhook message, of this run or an earlier one, oldest first."""
    url = webhook_url(config)
    pending = con.execute(
        "select message_key, payload from routing.outbox_messages "
        "where sink = 'webhook' and status = 'pending' order by created_at, message_key"
    ).fetchall()
    if not pending:
        return DeliveryReport(sent=0, pending=0)
    if not url:
        return DeliveryReport(sent=0, pending=len(pending), error=NO_WEBHOOK_URL)
    delivered: list[str] = []
    error: str | None = None
    with httpx.Client() as client:
        for key, payload in pending:
            error = post_with_retries(client, url, payload, key, config)
            if error is None:
                delivered.append(key)
                con.execute(
                    "update routing.outbox_messages set status = 'sent', sent_at = ?, "
                    "attempts = attempts + 1, last_error = null where message_key = ?",
                    [_now(), key],
                )
            else:
                con.execute(
                    "update routing.outbox_messages set attempts = attempts + 1, "
                    "last_error = ? where message_key = ?",
                    [error, key],
                )
                # The sink is down or refusing: keep the rest pending for the next run
                # instead of spending every message's retry budget on a dead endpoint.
                break
    return DeliveryReport(
        sent=len(delivered),
        pending=len(pending) - len(delivered),
        error=error,
        delivered=tuple(delivered),
    )


def pending_messages(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Notification messages (webhook, e-mail, Teams) not delivered yet, oldest first: what
    the next delivery sends. File messages are written with their run's outbox folder (or
    not at all, with the files sink off): there is nothing to retry."""
    return warehouse.query(
        con,
        "select message_key, run_id, kind, sink, attempts, last_error, created_at "
        "from routing.outbox_messages where sink <> 'file' and status = 'pending' "
        "order by created_at, message_key",
    )
