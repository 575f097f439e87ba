-- Routing decisions published by earlier runs (routing.decisions); the workload index counts
-- the records routed to each rep in the last seven days.
with

source as (
    select * from {{ source('routing', 'decisions') }}
)

select
    run_id,
    decided_at,
    record_type,
    record_id,
    previous_owner_id,
    owner_id,
    queue,
    rule,
    territory_id
from source
