-- One row per conflict any run logged (routing.conflicts): a record that several rules or
-- territories claimed, how the engine resolved it, with the run's mode and as-of time and
-- the names of the record and the resulting owner, and the candidate territories.
--
-- A view, not a table, for the same reason as fct_routing_decisions: a run logs its
-- conflicts after its dbt build, and a view shows them at once.
{{ config(materialized='view') }}

with

conflicts as (
    select * from {{ ref('stg_routing__conflicts') }}
),

runs as (
    select * from {{ ref('stg_routing__runs') }}
),

records as (
    select
        record_type,
        record_id,
        record_name
    from {{ ref('int_records_named') }}
),

reps as (
    select
        rep_id,
        rep_name,
        team
    from {{ ref('dim_reps') }}
)

select
    conflicts.run_id,
    runs.mode as run_mode,
    runs.as_of as run_as_of,
    cast(runs.as_of as date) as run_date,
    conflicts.record_type,
    conflicts.record_id,
    records.record_name,
    conflicts.conflict_type,
    conflicts.candidates,
    {{ list_length('conflicts.candidates') }} as candidate_count,
    {{ list_field_values('conflicts.candidates', 'territory_id') }} as candidate_territory_ids,
    conflicts.resolution,
    conflicts.owner_id,
    reps.rep_name as owner_name,
    reps.team as owner_team,
    conflicts.queue,
    coalesce(conflicts.owner_id, conflicts.queue) as routed_to,
    conflicts.rationale
from conflicts
left join runs
    on conflicts.run_id = runs.run_id
left join records
    on
        conflicts.record_type = records.record_type
        and conflicts.record_id = records.record_id
left join reps
    on conflicts.owner_id = reps.rep_id
