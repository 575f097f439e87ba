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

from switchboard.publish.ledger import (
    RunRecord,
    abandon_started,
    find_run,
    find_started,
    fingerprint,
    record_run,
    record_stopped,
    set_status,
    start_run,
)
from switchboard.publish.outbox import (
    neutralise_formulas,
    queue_messages,
    raise_alerts,
    write_outbox,
    write_summary,
)
from switchboard.publish.schema import (
    BUILDS,
    LEDGER_TABLES,
    MESSAGES,
    REASSIGNMENT_COLUMNS,
    ROUTING_ALERTS,
    ensure_tables,
)
from switchboard.publish.webhook import (
    NO_WEBHOOK_URL,
    DeliveryReport,
    deliver_webhooks,
    pending_messages,
    post_with_retries,
    webhook_url,
)

__all__ = [
    "BUILDS",
    "LEDGER_TABLES",
    "MESSAGES",
    "NO_WEBHOOK_URL",
    "REASSIGNMENT_COLUMNS",
    "ROUTING_ALERTS",
    "DeliveryReport",
    "RunRecord",
    "abandon_started",
    "deliver_webhooks",
    "ensure_tables",
    "find_run",
    "find_started",
    "fingerprint",
    "neutralise_formulas",
    "pending_messages",
    "post_with_retries",
    "queue_messages",
    "raise_alerts",
    "record_run",
    "record_stopped",
    "set_status",
    "start_run",
    "webhook_url",
    "write_outbox",
    "write_summary",
]
