-- Records given to reps (macro gives_a_rep) by runs that started after the marts were last
-- built (stg_routing__builds): the earlier arrivals passes of the day, which the workload
-- index (int_reps_workload_indexed, built before them) has not counted. One row per
-- decision; an arrivals pass adds them to the reps' workload when it picks.
--
-- A view: the decisions and the build time are recorded after the build, and an arrivals
-- pass reads this without a full build.
{{ config(materialized='view') }}

with

last_build as (
    select max(built_at) as built_at
    from {{ ref('stg_routing__builds') }}
),

runs as (
    select run_id
    from {{ ref('stg_routing__runs') }}
    where
        status in ('decided', 'published')
        and started_at > (select last_build.built_at from last_build)
)

select
    decisions.record_type,
    decisions.owner_id as rep_id
from {{ ref('stg_routing__decisions') }} as decisions
inner join runs
    on decisions.run_id = runs.run_id
where {{ gives_a_rep('decisions') }}
