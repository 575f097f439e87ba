-- The territory plan, one row per territory, as reports and the what-if read it: its name,
-- priority, segment, assignment method and overflow queue (stg_plan__territories holds the
-- normalised criteria too).
with

territories as (
    select * from {{ ref('stg_plan__territories') }}
)

select
    territory_id,
    territory_name,
    priority,
    segment,
    method as territory_method,
    overflow_queue
from territories
