"""Records sitting in a queue or pool stay there until something about them changes.

A decision that sends a record to a queue (overflow, fallback) or a territory pool gives it
no rep, so the record still needs an owner at the next run. Deciding it again every hour
would add a decision row and count it as routed again each time, while nothing that
decided it had changed; the queue's people work it in the CRM meanwhile.

So every recorded queue or pool decision carries ``input_hash``: a digest of what it
depended on,

* the plan it was decided against (``plan_fingerprint``): routing.yml (``rules_version``),
  the territories as loaded (``raw.territories``), ``dim_territory_members``, ``dim_reps``
  (the roster with its HR status and availability on the as-of date) and
  ``dim_named_accounts``;
* the record itself (``record_text``): its row in ``dim_accounts`` / ``dim_leads`` (every
  attribute the rules and the territories read, and the owner the export shows), the open
  opportunities of its account (id and owner), and for a lead the same for its matched
  account.

A record whose latest published decision put it in a queue or pool, with an ``input_hash``
equal to the one it would have now, is ``settled``: the run leaves it out (no decision, not
counted). When any part changed (another country, a new territory plan or roster, new
settings, or someone took the record from the queue in the CRM, which changes its owner),
it is decided again. Workload alone is not a change: a queued record does not leave the
queue because a rep's index fell; a new roster or plan moves it.

The digests are computed in DuckDB (md5 over the rows' JSON) for the records that need one:
the run's queue and pool decisions, and the records sitting in a queue. Decisions that give
a rep (which pending owners carry) or keep the owner for a manager's review are never
compared, so they are recorded without one: at 1M accounts the first hourly run makes
about 110,000 decisions, and hashing them all would cost seconds. The digests are stable
across Python and Polars versions; a new column in a mart changes every digest once, so
queued records are decided once more after such an upgrade.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb
import polars as pl

from switchboard import warehouse

# What a decision's plan digest covers, in this order. Columns that change without the
# plan changing (a raw row's position in its file, the build's date) are left out.
PLAN_TABLES = {
    "territories": "raw.territories",
    "territory_members": "marts.dim_territory_members",
    "reps": "marts.dim_reps",
    "named_accounts": "marts.dim_named_accounts",
}
_NOT_PLAN = ("_row_number", "as_of_date")

# A decision that leaves the record waiting in a queue or pool rather than with a rep.
_IN_A_QUEUE = "decisions.owner_id is null and decisions.queue is not null"
IN_A_QUEUE = pl.col("owner_id").is_null() & pl.col("queue").is_not_null()

KEYS = ["record_type", "record_id"]
HASHES_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "input_hash": pl.String(),
}


def plan_fingerprint(con: duckdb.DuckDBPyConnection, rules_version: str) -> str:
    """A digest of the settings and the plan the run decides against (PLAN_TABLES): the
    same rows in any order give the same digest."""
    digest = hashlib.sha256(f"rules_version={rules_version}".encode())
    for name, table in PLAN_TABLES.items():
        exclude = ", ".join(f"'{column}'" for column in _NOT_PLAN)
        (part,) = con.execute(f"""
            select md5(coalesce(string_agg(row_text, chr(10) order by row_text), ''))
            from (
                select to_json(plan_row)::varchar as row_text
                from (select columns(lambda c: c not in ({exclude})) from {table}) as plan_row
            )
        """).fetchall()[0]
        digest.update(f"|{name}={part}".encode())
    return digest.hexdigest()


def input_hashes(con: duckdb.DuckDBPyConnection, records: pl.DataFrame, plan: str) -> pl.DataFrame:
    """``input_hash`` (md5 of the plan digest and the record's text) for each of
    ``records`` (record_type, record_id) found in the marts: record_type, record_id,
    input_hash."""
    wanted = records.select(KEYS).unique().to_arrow()
    con.register("_queued_wanted", wanted)
    try:
        return warehouse.query(
            con,
            """
            with
            wanted_accounts as (
                select record_id as account_id from _queued_wanted
                where record_type = 'account'
            ),
            wanted_leads as (
                select leads.lead_id, leads.matched_account_id,
                       to_json(leads)::varchar as row_text
                from marts.dim_leads as leads
                inner join _queued_wanted as wanted
                    on wanted.record_type = 'lead' and wanted.record_id = leads.lead_id
            ),
            needed_accounts as (
                select account_id from wanted_accounts
                union
                select matched_account_id from wanted_leads
                where matched_account_id is not null
            ),
            opportunities as (
                select
                    account_id,
                    string_agg(opportunity_id || '=' || coalesce(owner_id, ''), ','
                               order by opportunity_id) as opportunities
                from marts.fct_open_opportunities
                where account_id in (select account_id from needed_accounts)
                group by account_id
            ),
            account_texts as (
                select
                    accounts.account_id,
                    to_json(accounts)::varchar || '|opportunities='
                        || coalesce(opportunities.opportunities, '') as row_text
                from marts.dim_accounts as accounts
                left join opportunities on accounts.account_id = opportunities.account_id
                where accounts.account_id in (select account_id from needed_accounts)
            )
            select 'account' as record_type, account_texts.account_id as record_id,
                   md5(? || '|' || account_texts.row_text) as input_hash
            from account_texts
            inner join wanted_accounts on account_texts.account_id = wanted_accounts.account_id
            union all
            select 'lead', wanted_leads.lead_id,
                   md5(? || '|' || wanted_leads.row_text || '|account='
                       || coalesce(account_texts.row_text, ''))
            from wanted_leads
            left join account_texts on wanted_leads.matched_account_id = account_texts.account_id
        """,
            [plan, plan],
        ).cast(HASHES_SCHEMA)  # type: ignore[arg-type]
    finally:
        con.unregister("_queued_wanted")


def with_input_hashes(
    con: duckdb.DuckDBPyConnection, decisions: pl.DataFrame, plan: str
) -> pl.DataFrame:
    """The decisions with ``input_hash``, in the same row order: set on the queue and pool
    decisions, null on the others (never compared)."""
    waiting = decisions.filter(IN_A_QUEUE)
    hashes = (
        input_hashes(con, waiting, plan) if waiting.height else pl.DataFrame(schema=HASHES_SCHEMA)
    )
    return decisions.drop("input_hash", strict=False).join(
        hashes, on=KEYS, how="left", maintain_order="left"
    )


def settled(con: duckdb.DuckDBPyConnection, as_of: datetime, plan: str) -> pl.DataFrame:
    """record_type, record_id of the records whose latest published decision (of a run
    before ``as_of``, like pending owners) put them in a queue or pool, and whose
    ``input_hash`` is what it would be now: this run leaves them where they are."""
    queued = warehouse.query(
        con,
        f"""
        with ever_queued as (
            select distinct record_type, record_id
            from routing.decisions as decisions
            where {_IN_A_QUEUE} and decisions.input_hash is not null
        )
        select record_type, record_id, input_hash
        from (
            select
                decisions.record_type,
                decisions.record_id,
                decisions.input_hash,
                {_IN_A_QUEUE} as in_a_queue
            from routing.decisions as decisions
            semi join ever_queued using (record_type, record_id)
            inner join routing.runs as runs on decisions.run_id = runs.run_id
            where runs.status = 'published' and runs.as_of < ?
            qualify row_number() over (
                partition by decisions.record_type, decisions.record_id
                order by runs.as_of desc, runs.started_at desc) = 1
        )
        where in_a_queue and input_hash is not null
    """,
        [as_of],
    )
    if queued.is_empty():
        return pl.DataFrame(schema={key: pl.String() for key in KEYS})
    now = input_hashes(con, queued, plan)
    return queued.join(now, on=[*KEYS, "input_hash"], how="semi").select(KEYS)
