-- Conflicts logged by every run (routing.conflicts), one row per record and conflict type.
-- A view, like stg_routing__decisions: fct_routing_conflicts shows a run's conflicts as soon
-- as the run records them, without waiting for the next dbt build.
{{ config(materialized='view') }}

with

source as (
    select * from {{ source('routing', 'conflicts') }}
)

select
    run_id,
    record_type,
    record_id,
    conflict_type,
    candidates,
    resolution,
    owner_id,
    queue,
    rationale
from source
