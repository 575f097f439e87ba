"""The webhook sink: delivering queued messages with retries (the only retries of the
webhook), honouring Retry-After, and what is still pending."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import duckdb
import httpx
import polars as pl

from switchboard import warehouse
from switchboard.config.sinks import Webhook
from switchboard.publish.schema import _now


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
