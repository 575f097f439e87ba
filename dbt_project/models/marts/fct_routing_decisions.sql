-- One row per routing decision any run recorded (routing.decisions), with the run's mode,
-- as-of time and status, and names for analysts: the record's name, the owner's and the
-- previous owner's name and team, and the territory's name. Names are today's (the dims of
-- the latest build); a record, rep or territory that has since left the exports has none.
--
-- A view, not a table: a run records its decisions after its dbt build, so a table would
-- show them only from the next build on. As a view over views of routing.* (the staging
-- models) and the dims, it is current the moment a run records its decisions.
{{ config(materialized='view') }}

with

decisions as (
    select * from {{ ref('stg_routing__decisions') }}
),

runs as (
    select * from {{ ref('stg_routing__runs') }}
),

records as (
    select * from {{ ref('int_records_named') }}
),

reps as (
    select
        rep_id,
        rep_name,
        team
    from {{ ref('dim_reps') }}
),

territories as (
    select
        territory_id,
        territory_name
    from {{ ref('stg_plan__territories') }}
)

select
    decisions.run_id,
    runs.mode as run_mode,
    runs.as_of as run_as_of,
    runs.status as run_status,
    decisions.decided_at,
    cast(decisions.decided_at as date) as decided_date,
    decisions.record_type,
    decisions.record_id,
    records.record_name,
    records.lead_source,
    records.created_at as record_created_at,
    decisions.previous_owner_id,
    previous_owners.rep_name as previous_owner_name,
    previous_owners.team as previous_owner_team,
    decisions.owner_id,
    owners.rep_name as owner_name,
    owners.team as owner_team,
    decisions.queue,
    coalesce(decisions.owner_id, decisions.queue) as routed_to,
    decisions.rule,
    decisions.territory_id,
    territories.territory_name,
    decisions.conflict,
    decisions.candidates,
    decisions.rationale,
    decisions.rules_version,
    decisions.latency_seconds,
    -- null when the record is no longer in the CRM export (its creation time is unknown);
    -- 0, as in latency_seconds, for a record exported just after its pass's as-of
    case
        when records.created_at is not null
            then greatest(
                    {{ timestamp_diff(
                        'microsecond', 'records.created_at', 'decisions.decided_at'
                    ) }}
                    / 60e6,
                    0
                )
    end as minutes_to_owner,
    (
        decisions.previous_owner_id is not null
        and decisions.owner_id is distinct from decisions.previous_owner_id
    ) as is_reassignment
from decisions
left join runs
    on decisions.run_id = runs.run_id
left join records
    on
        decisions.record_type = records.record_type
        and decisions.record_id = records.record_id
left join reps as owners
    on decisions.owner_id = owners.rep_id
left join reps as previous_owners
    on decisions.previous_owner_id = previous_owners.rep_id
left join territories
    on decisions.territory_id = territories.territory_id
