-- The run ledger (routing.runs): one row per routing run with its mode, as-of time and
-- status. A view, like stg_routing__decisions: a run's row changes status while it runs.
{{ config(materialized='view') }}

with

source as (
    select * from {{ source('routing', 'runs') }}
)

select
    run_id,
    mode,
    as_of,
    status,
    message,
    rules_version,
    snapshot,
    fingerprint,
    started_at,
    finished_at
from source
