-- Owners Switchboard published that the CRM export may not show yet: each record's latest
-- published decision of the var('pending_days') days before the as-of, when it gave the
-- record a rep (macro gives_a_rep: not a queue, not a manager review), with the owner it
-- replaced. Runs at the as-of itself do not count: a what-if replays the latest run's book
-- at that run's as-of, seeing what that run saw. The route stage keeps these owners where
-- the export still shows the owner they replaced (switchboard.pipeline.inputs), so the run
-- after an arrivals pass or a departure does not decide the same record again.
--
-- A view: a run's decisions count the moment it records them, after the build. The as-of
-- is the build's; an arrivals pass recreates the view with its own (tag arrivals), and a
-- run reusing the day's marts refreshes it (switchboard.dbt.refresh_as_of_views).
{{ config(materialized='view', tags=['arrivals', 'as_of_view']) }}

with

runs as (
    select
        run_id,
        as_of,
        started_at
    from {{ ref('stg_routing__runs') }}
    where
        status = 'published'
        and as_of > {{ dbt.dateadd('day', '-1 * ' ~ var('pending_days'), as_of_timestamp()) }}
        and as_of < {{ as_of_timestamp() }}
),

latest as (
    select
        decisions.record_type,
        decisions.record_id,
        decisions.previous_owner_id,
        decisions.owner_id,
        {{ gives_a_rep('decisions') }} as gives_a_rep,
        row_number() over (
            partition by decisions.record_type, decisions.record_id
            order by runs.as_of desc, runs.started_at desc
        ) as recency
    from {{ ref('stg_routing__decisions') }} as decisions
    inner join runs
        on decisions.run_id = runs.run_id
)

select
    record_type,
    record_id,
    previous_owner_id,
    owner_id
from latest
where
    recency = 1
    and gives_a_rep
