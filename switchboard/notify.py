"""The notification sinks: a Slack webhook (Block Kit), e-mail and Microsoft Teams.

A run queues, for each configured sink, one message per recipient of its new alerts (the
records grouped by alert type, switchboard.messages) and its summary, in
routing.outbox_messages like every outbound message: keyed by content, delivered until it
succeeds, whichever run gets it through, never twice. An alert is announced once per sink:
routing.message_alerts records which message carried it, and a later run raising the same
alert (same alert_key) leaves it out.

The webhook is posted by switchboard.publish (retries with backoff, Retry-After,
idempotency-key header). E-mail and Teams go through apprise, with the same retry
settings per sink; apprise's URL forms are documented in docs/OPERATIONS.md.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb
import polars as pl

from switchboard import blockkit, messages, publish, tables, warehouse
from switchboard.config import RoutingConfig
from switchboard.config.sinks import Email, Sinks, Teams
from switchboard.summary import SINK_NAMES, RunSummary

Sink = Literal["webhook", "email", "teams"]
SINKS: tuple[Sink, ...] = ("webhook", "email", "teams")
URL_VARIABLES: dict[Sink, str] = {
    "webhook": "SWITCHBOARD_WEBHOOK_URL",
    "email": "SWITCHBOARD_EMAIL_URL",
    "teams": "SWITCHBOARD_TEAMS_URL",
}
MESSAGE_ALERTS_TABLE = tables.MESSAGE_ALERTS
# Which message announced which alert on which sink.
MESSAGE_ALERTS: dict[str, pl.DataType] = {
    "sink": pl.String(),
    "alert_key": pl.String(),
    "message_key": pl.String(),
    "run_id": pl.String(),
}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    if not warehouse.table_exists(con, MESSAGE_ALERTS_TABLE):
        warehouse.write_table(con, MESSAGE_ALERTS_TABLE, pl.DataFrame(schema=MESSAGE_ALERTS))


def sink_url(sinks: Sinks, sink: Sink) -> str | None:
    """The sink's URL: its environment variable (keeps secrets out of routing.yml), else
    routing.yml's."""
    if sink == "webhook":
        return publish.webhook_url(sinks.webhook)
    settings: Email | Teams = sinks.email if sink == "email" else sinks.teams
    return os.environ.get(URL_VARIABLES[sink]) or settings.url


def configured(sinks: Sinks) -> list[Sink]:
    return [sink for sink in SINKS if sink_url(sinks, sink)]


def no_url(sink: Sink) -> str:
    if sink == "webhook":
        return publish.NO_WEBHOOK_URL
    return f"no {SINK_NAMES[sink]} URL (set sinks.{sink}.url or {URL_VARIABLES[sink]})"


# ---------------------------------------------------------------- queueing


# Each record type's display name in the marts: an account by its name, a lead by its
# e-mail and company, a rep by name.
_NAME_SQL = {
    "account": ("marts.dim_accounts", "account_id", "coalesce(account_name, account_id)"),
    "lead": (
        "marts.dim_leads",
        "lead_id",
        "coalesce(email || coalesce(' (' || company || ')', ''), lead_id)",
    ),
    "rep": ("marts.dim_reps", "rep_id", "coalesce(rep_name, rep_id)"),
}


def _names(con: duckdb.DuckDBPyConnection, alerts: pl.DataFrame) -> pl.DataFrame:
    """Display names of the accounts, leads and reps ``alerts`` are about (messages.NAMES),
    from the marts. A table the warehouse lacks yet (a guard tripped before the first
    build) gives no names: the ids stand in."""
    wanted = (
        alerts.select(
            record_type=pl.when(pl.col("record_id").is_not_null())
            .then("record_type")
            .otherwise(pl.lit("rep")),
            record_id=pl.coalesce("record_id", "rep_id"),
        )
        .drop_nulls()
        .unique()
    )
    frames = [pl.DataFrame(schema=messages.NAMES)]
    for kind, (table, key, name) in _NAME_SQL.items():
        ids = wanted.filter(pl.col("record_type") == kind)["record_id"].to_list()
        if ids and warehouse.table_exists(con, table):
            frames.append(
                warehouse.query(
                    con,
                    f"select '{kind}' as record_type, {key} as record_id, {name} as name "
                    f"from {table} where {key} in (select unnest(?::varchar[]))",
                    [ids],
                ).cast(messages.NAMES)  # type: ignore[arg-type]
            )
    return pl.concat(frames)


def _recipients(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> pl.DataFrame:
    """rep_name, email and slack_user_id of the recipients that are reps (dim_reps before
    an upgrade has no slack_user_id: nobody is mentioned until the marts are rebuilt)."""
    if not ids or not warehouse.table_exists(con, "marts.dim_reps"):
        return pl.DataFrame(schema=messages.RECIPIENTS)
    columns = {
        str(r[0])
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'dim_reps'"
        ).fetchall()
    }
    slack = "slack_user_id" if "slack_user_id" in columns else "null::varchar"
    return warehouse.query(
        con,
        f"select rep_id, rep_name, email, {slack} as slack_user_id from marts.dim_reps "
        "where rep_id in (select unnest(?::varchar[]))",
        [list(ids)],
    ).cast(messages.RECIPIENTS)  # type: ignore[arg-type]


def _payload(sink: Sink, digest: messages.Digest, settings: Sinks) -> str:
    if sink == "webhook":
        return json.dumps(blockkit.digest_message(digest), ensure_ascii=False)
    if sink == "email":
        to = digest.recipient.email if settings.email.to_recipients else None
        return json.dumps(
            {
                "title": digest.title(),
                "body": messages.digest_html(digest),
                "format": "html",
                "to": to,
            },
            ensure_ascii=False,
        )
    return json.dumps(
        {"title": digest.title(), "body": messages.digest_markdown(digest), "format": "markdown"},
        ensure_ascii=False,
    )


def _summary_payload(sink: Sink, summary: RunSummary) -> str:
    if sink == "webhook":
        return json.dumps(blockkit.summary_message(summary), ensure_ascii=False)
    if sink == "email":
        return json.dumps(
            {
                "title": messages.summary_title(summary),
                "body": messages.summary_html(summary),
                "format": "html",
                "to": None,
            },
            ensure_ascii=False,
        )
    return json.dumps(
        {
            "title": messages.summary_title(summary),
            "body": messages.summary_markdown(summary),
            "format": "markdown",
        },
        ensure_ascii=False,
    )


def _sends_summary(sink: Sink, settings: Sinks) -> bool:
    return {
        "webhook": settings.webhook.summary,
        "email": settings.email.summary,
        "teams": settings.teams.summary,
    }[sink]


def queue(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    mode: str,
    as_of: datetime | None,
    alerts: pl.DataFrame,
    summary: RunSummary,
    config: RoutingConfig,
    outbox: Path | None,
) -> int:
    """Queue this run's messages for every configured sink: one per recipient of its
    alerts not yet announced on that sink, and the run summary. Keys already queued (an
    earlier attempt of the same run) are skipped. Returns how many messages are new."""
    sinks = configured(config.sinks)
    if not sinks:
        return 0
    ensure_tables(con)
    wanted = alerts.filter(pl.col("type").is_in(messages.DIGEST_TYPES))
    names = _names(con, wanted)
    people = _recipients(con, wanted["recipient_id"].unique().sort().to_list())
    announced = warehouse.query(
        con,
        f"select sink, alert_key from {MESSAGE_ALERTS_TABLE} "
        "where alert_key in (select unnest(?::varchar[]))",
        [wanted["alert_key"].to_list()],
    )
    full_list = messages.full_list_pointer(
        str(outbox) if outbox is not None and config.sinks.files else None, run_id
    )
    rows: list[tuple[str, str, str]] = []  # message_key, kind, payload
    carried: list[tuple[str, str, str]] = []  # sink, alert_key, message_key
    for sink in sinks:
        fresh = wanted.join(announced.filter(pl.col("sink") == sink), on="alert_key", how="anti")
        for digest in messages.digests(
            fresh,
            names=names,
            recipients=people,
            config=config.messages,
            revops_recipient=config.alerts.revops_recipient,
            run_id=run_id,
            mode=mode,
            as_of=as_of,
            full_list=full_list,
        ):
            key = f"{sink}|alerts|{run_id}|{digest.recipient.recipient_id}"
            rows.append((key, "alert", _payload(sink, digest, config.sinks)))
            carried += [(sink, alert_key, key) for alert_key in digest.alert_keys]
        if _sends_summary(sink, config.sinks):
            rows.append((f"{sink}|summary|{run_id}", "summary", _summary_payload(sink, summary)))
    return _insert(con, run_id, rows, carried)


def _insert(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    rows: list[tuple[str, str, str]],
    carried: list[tuple[str, str, str]],
) -> int:
    """The new messages and the alerts they carry, in one transaction: an alert is never
    recorded as announced by a message that was not queued."""
    now = _now()
    frame = pl.DataFrame(
        {
            "message_key": [r[0] for r in rows],
            "run_id": [run_id] * len(rows),
            "kind": [r[1] for r in rows],
            "sink": [r[0].split("|", 1)[0] for r in rows],
            "payload": [r[2] for r in rows],
            "status": ["pending"] * len(rows),
            "attempts": [0] * len(rows),
            "last_error": [None] * len(rows),
            "created_at": [now] * len(rows),
            "sent_at": [None] * len(rows),
        },
        schema=publish.MESSAGES,
    )
    existing = warehouse.query(
        con,
        "select message_key from routing.outbox_messages "
        "where message_key in (select unnest(?::varchar[]))",
        [frame["message_key"].to_list()],
    )
    fresh = frame.join(existing, on="message_key", how="anti")
    links = (
        pl.DataFrame(
            carried,
            schema={k: MESSAGE_ALERTS[k] for k in ("sink", "alert_key", "message_key")},
            orient="row",
        )
        .with_columns(run_id=pl.lit(run_id))
        .join(fresh.select("message_key"), on="message_key", how="semi")
    )
    con.execute("begin transaction")
    try:
        warehouse.write_table(con, "routing.outbox_messages", fresh, mode="append")
        warehouse.write_table(
            con, MESSAGE_ALERTS_TABLE, links.select(list(MESSAGE_ALERTS)), mode="append"
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return fresh.height


# ---------------------------------------------------------------- delivery


def deliver(con: duckdb.DuckDBPyConnection, sinks: Sinks) -> publish.DeliveryReport:
    """Send every pending notification, of this run or an earlier one, oldest first per
    sink: the webhook (switchboard.publish), then e-mail and Teams. A sink that fails keeps
    its remaining messages pending; the others are still tried."""
    reports = [
        publish.deliver_webhooks(con, sinks.webhook),
        _deliver_apprise(con, "email", sinks.email, sink_url(sinks, "email")),
        _deliver_apprise(con, "teams", sinks.teams, sink_url(sinks, "teams")),
    ]
    named = list(zip(SINKS, reports, strict=True))
    errors = [
        r.error if sink == "webhook" else f"{SINK_NAMES[sink]}: {r.error}"
        for sink, r in named
        if r.error
    ]
    return publish.DeliveryReport(
        sent=sum(r.sent for r in reports),
        pending=sum(r.pending for r in reports),
        error="; ".join(errors) if errors else None,
        delivered=tuple(k for r in reports for k in r.delivered),
        sinks=tuple(sink for sink, r in named if r.pending),
    )


def _deliver_apprise(
    con: duckdb.DuckDBPyConnection, sink: Sink, settings: Email | Teams, url: str | None
) -> publish.DeliveryReport:
    pending = con.execute(
        "select message_key, payload from routing.outbox_messages "
        "where sink = ? and status = 'pending' order by created_at, message_key",
        [sink],
    ).fetchall()
    if not pending:
        return publish.DeliveryReport(sent=0, pending=0)
    if not url:
        return publish.DeliveryReport(sent=0, pending=len(pending), error=no_url(sink))
    delivered: list[str] = []
    error: str | None = None
    for key, payload in pending:
        error = send_with_retries(url, json.loads(payload), settings)
        if error is None:
            delivered.append(key)
            con.execute(
                "update routing.outbox_messages set status = 'sent', sent_at = ?, "
                "attempts = attempts + 1, last_error = null where message_key = ?",
                [_now(), key],
            )
        else:
            con.execute(
                "update routing.outbox_messages set attempts = attempts + 1, last_error = ? "
                "where message_key = ?",
                [error, key],
            )
            break  # the sink is down: keep the rest for the next run
    return publish.DeliveryReport(
        sent=len(delivered),
        pending=len(pending) - len(delivered),
        error=error,
        delivered=tuple(delivered),
    )


def message_url(url: str, message: dict[str, Any], timeout_seconds: float) -> str:
    """The apprise URL for one message: its own address in place of the URL's recipients
    (an e-mail to a manager), and the sink's timeouts (apprise's cto/rto)."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("cto", "rto") and not (message.get("to") and k == "to")
    ]
    query += [("cto", f"{timeout_seconds:g}"), ("rto", f"{timeout_seconds:g}")]
    path = parts.path
    if message.get("to"):
        query.append(("to", str(message["to"])))
        path = ""  # mailto://host/a@example.com: path segments are recipients too
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), parts.fragment))


def send_with_retries(
    url: str, message: dict[str, Any], settings: Email | Teams, sleep: float = 30.0
) -> str | None:
    """Send one message through apprise; None when delivered, else the last error (what
    apprise logged). Tried ``max_attempts`` times with exponential backoff."""
    import apprise

    target = message_url(url, message, settings.timeout_seconds)
    body_format = (
        apprise.NotifyFormat.HTML
        if message.get("format") == "html"
        else apprise.NotifyFormat.MARKDOWN
    )
    error = "not attempted"
    for attempt in range(settings.max_attempts):
        # A fresh notifier each attempt: apprise throttles one instance to a request every
        # 5.5 s, and the backoff here already spaces the attempts.
        notifier = apprise.Apprise()
        if not notifier.add(target):
            return "apprise cannot read the URL (see docs/OPERATIONS.md for the URL forms)"
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
            result = notifier.notify(
                body=message["body"], title=message.get("title", ""), body_format=body_format
            )
        if result:
            return None
        error = _last_line(logs.getvalue()) or "not delivered"
        if attempt + 1 < settings.max_attempts:
            time.sleep(min(settings.backoff_seconds * (2**attempt), sleep))
    return error


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def pending_sinks(pending: pl.DataFrame) -> list[str]:
    """The sinks ``pending`` (publish.pending_messages) has messages for, in SINKS order."""
    present = set(pending["sink"].to_list()) if pending.height else set()
    return [sink for sink in SINKS if sink in present]
