-- The records arrivals passes route (routing.arrival_scope): each pass's ingest appends the
-- records it found new, and the hourly run empties it. A view, like the other routing
-- staging models: the table changes between builds, during every arrivals pass.
{{ config(materialized='view') }}

with

source as (
    select * from {{ source('routing', 'arrival_scope') }}
)

select
    record_type,
    record_id,
    run_id
from source
