"""Write-back files: a run's owner changes per CRM object, and what a person must review.

``outbox/<run_id>/Account.csv`` and ``Lead.csv`` are in the CRM's bulk-update shape (a
Salesforce Data Loader or Bulk API update, a HubSpot import): the record id, its new owner,
then the audit columns of routing.yml ``writeback.columns``. Only owner changes the CRM can
apply go there: a rep, or a queue or pool that routing.yml ``queues:`` maps to a CRM id
for the record's object type. ``review.csv`` holds the rest, each row with the reason in
words: accounts kept for manager review, and queue or pool decisions without a CRM id for
their object type. ``reassignments.csv`` (every reassignment, both objects, Switchboard's
own ids and queue names) stays for analysts.

A queue decision's CRM id is resolved when the run queues its messages
(switchboard.publish.queue_messages) and is part of the message key: a record decided to
the same queue again once routing.yml maps that queue is a new message, so it reaches
Account.csv or Lead.csv instead of staying in an earlier run's review.csv.
"""

from __future__ import annotations

import polars as pl

from switchboard.config.queues import OBJECT_TYPES, TERRITORY_ID, Queues
from switchboard.config.writeback import Writeback

# One file per object type (a decision's record_type), named as the CRM names the object.
OBJECT_FILES = {"account": "Account.csv", "lead": "Lead.csv"}
REVIEW_FILE = "review.csv"
REVIEW_COLUMNS = [
    "record_type",
    "record_id",
    "current_owner_id",
    "queue",
    "rule",
    "rationale",
    "reason",
]
# What a reassignment or review message carries (its JSON payload): the columns of
# reassignments.csv (publish.REASSIGNMENT_COLUMNS, `reason` being the decision's
# rationale) and what the write-back files need besides. Messages queued before these
# existed decode with nulls there.
PAYLOAD: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "old_owner_id": pl.String(),
    "new_owner_id": pl.String(),
    "queue": pl.String(),
    "rule": pl.String(),
    "reason": pl.String(),
    "territory_id": pl.String(),
    "decided_at": pl.String(),  # ISO 8601, UTC: 2026-11-23T09:00:00Z
    "run_id": pl.String(),
    "rules_version": pl.String(),
    "crm_owner_id": pl.String(),  # the owner to write: the rep, or the queue's CRM id
}
# routing.yml's names for the decision fields (config.WritebackField) -> payload keys.
_FIELD_KEYS = {"previous_owner_id": "old_owner_id", "rationale": "reason"}


def crm_owner(queues: Queues) -> pl.Expr:
    """The CRM owner id of each decision (columns record_type, owner_id, queue): its rep,
    else the CRM id routing.yml `queues:` gives its queue or pool for the record's object
    type (an exact name first, then a name pattern with {territory_id}), else null."""
    queue, object_type = pl.col("queue"), pl.col("record_type")
    mapped: list[pl.Expr] = []
    for kind in OBJECT_TYPES:
        ids = {
            name: crm_id
            for name, owners in queues.crm_ids.items()
            if (crm_id := getattr(owners, kind))
        }
        exact = {name: crm_id for name, crm_id in ids.items() if TERRITORY_ID not in name}
        if exact:
            mapped.append(
                pl.when(object_type == kind).then(
                    queue.replace_strict(exact, default=None, return_dtype=pl.String())
                )
            )
        for name, crm_id in ids.items():
            if TERRITORY_ID in name:
                head, tail = name.split(TERRITORY_ID)
                mapped.append(
                    pl.when(
                        (object_type == kind)
                        & queue.str.starts_with(head)
                        & queue.str.ends_with(tail)
                        & (queue.str.len_chars() > len(head) + len(tail))
                    ).then(pl.lit(crm_id))
                )
    return pl.coalesce(pl.col("owner_id"), *mapped)


def payloads(decisions: pl.DataFrame, queues: Queues) -> pl.DataFrame:
    """The decisions a run publishes to the files, as message payload columns (PAYLOAD) and
    their kind: `review` for a manager review (the owner is kept), else `reassignment`."""
    return decisions.select(
        kind=pl.when(pl.col("rule") == "manager_review")
        .then(pl.lit("review"))
        .otherwise(pl.lit("reassignment")),
        record_type="record_type",
        record_id="record_id",
        old_owner_id="previous_owner_id",
        new_owner_id="owner_id",
        queue="queue",
        rule="rule",
        reason="rationale",
        territory_id="territory_id",
        decided_at=pl.col("decided_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        run_id="run_id",
        rules_version="rules_version",
        crm_owner_id=crm_owner(queues),
    )


def _yaml_key(name: pl.Expr) -> pl.Expr:
    """A queue name as a routing.yml key path part: quoted unless plain (in single quotes,
    which a CSV cell does not double)."""
    return (
        pl.when(name.str.contains(r"^[A-Za-z0-9_-]+$"))
        .then(name)
        .otherwise(pl.concat_str(pl.lit("'"), name, pl.lit("'")))
    )


def review_reason() -> pl.Expr:
    """Why a decision is not an owner change the CRM can apply, in words a person acts on."""
    queue, object_type = pl.col("queue"), pl.col("record_type")
    what = (
        pl.when(pl.col("rule") == "territory_pool")
        .then(pl.lit("territory pool"))
        .otherwise(pl.lit("queue"))
    )
    return (
        # A lead kept for manager review missed its first-touch SLA (a leaver's accounts
        # with open pipeline are the other manager reviews).
        pl.when((pl.col("rule") == "manager_review") & (object_type == "lead"))
        .then(
            pl.lit(
                "owner kept for manager review (not touched within the first-touch "
                "SLA): nothing to write back; the manager reassigns the lead in the CRM"
            )
        )
        .when(pl.col("rule") == "manager_review")
        .then(
            pl.lit(
                "owner kept for manager review (open pipeline): nothing to write back; "
                "the manager hands the account over in the CRM"
            )
        )
        .when(queue.is_null())
        .then(pl.lit("no owner and no queue decided"))
        .otherwise(
            pl.format(
                "no CRM id for {} {} on {}s; add queues.{}.{} to routing.yml",
                what,
                queue,
                object_type,
                _yaml_key(queue),
                object_type,
            )
        )
    )


def files(messages: pl.DataFrame, settings: Writeback) -> dict[str, pl.DataFrame]:
    """Account.csv, Lead.csv and review.csv from a run's reassignment and review messages
    (a `kind` column and the PAYLOAD columns), in the messages' order. A decision that
    leaves the owner the CRM shows (a queue mapped to the user who already holds the
    record) is in none of them."""
    owner = pl.coalesce("crm_owner_id", "new_owner_id")
    reassigned = pl.col("kind") == "reassignment"
    change = reassigned & owner.is_not_null() & owner.ne_missing(pl.col("old_owner_id"))
    review = (pl.col("kind") == "review") | (reassigned & owner.is_null())
    audit = [
        pl.col(_FIELD_KEYS.get(field, field)).alias(column)
        for column, field in settings.columns.items()
    ]
    out = {
        name: messages.filter(change & (pl.col("record_type") == kind)).select(
            pl.col("record_id").alias(settings.id_column),
            owner.alias(settings.owner_column),
            *audit,
        )
        for kind, name in OBJECT_FILES.items()
    }
    out[REVIEW_FILE] = messages.filter(review).select(
        "record_type",
        "record_id",
        pl.col("old_owner_id").alias("current_owner_id"),
        "queue",
        "rule",
        pl.col("reason").alias("rationale"),
        review_reason().alias("reason"),
    )
    return out
