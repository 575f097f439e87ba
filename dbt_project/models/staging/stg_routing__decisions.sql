-- Routing decisions recorded by every run (routing.decisions), one row per decision. The
-- workload index counts the records routed to each rep in the last seven days, and
-- fct_routing_decisions shows them to analysts.
--
-- A view, unlike the other staging models: it only selects columns, and fct_routing_decisions
-- (a view too) must see a run's decisions as soon as the run records them, after that run's
-- dbt build. A table here would freeze them until the next build.
{{ config(materialized='view') }}

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
    territory_id,
    conflict,
    candidates,
    rationale,
    rules_version,
    latency_seconds
from source
