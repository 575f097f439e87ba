"""The outbox: queueing each run's messages once by their ``message_key``, and writing the
run's files (reassignments, the write-back files, alerts, the summary) atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from switchboard import tables, warehouse, writeback
from switchboard.alerts import ALERTS
from switchboard.config.queues import Queues
from switchboard.config.writeback import Writeback
from switchboard.engine.schema import RECORDED_DECISIONS
from switchboard.publish.schema import MESSAGES, REASSIGNMENT_COLUMNS, _now

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
