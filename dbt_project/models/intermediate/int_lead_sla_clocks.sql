-- The first-touch clock of each lead a territory gave a rep (routing.yml sla:): one row per
-- lead whose latest published decision gave it a rep by rule 'territory' or 'sla_reroute'.
-- The clock started at that decision's decided_at (the as-of of the run that made it). The
-- decisions up to it since the last decision of any other rule are its run of re-routes:
-- how many there were (reroutes) and every rep who held the lead in them (held_by, the
-- current owner included). first_touch_at is the owner's first activity on the lead at or
-- after the clock started. A manager review, a queue or any other rule stops the clock.
--
-- The engine decides which clocks ran out (switchboard/engine/sla.py: minutes of the
-- owner's working hours past the as-of, the lead's source, the owner still ours). A view,
-- like the routing log marts: a run's decisions count as soon as it records them, and an
-- arrivals pass reads it without a build. It reads the last eight days of the log only: the
-- engine looks at clocks started within seven days of its as-of, and the log keeps growing.
{{ config(materialized='view') }}

with

runs as (
    select
        run_id,
        as_of,
        started_at
    from {{ ref('stg_routing__runs') }}
    where status = 'published'
),

horizon as (
    select max(as_of) - interval 8 day as since
    from runs
),

lead_decisions as (
    select
        decisions.record_id as lead_id,
        decisions.owner_id,
        decisions.rule,
        decisions.territory_id,
        decisions.decided_at,
        row_number() over (
            partition by decisions.record_id
            order by runs.as_of desc, runs.started_at desc
        ) as recency
    from {{ ref('stg_routing__decisions') }} as decisions
    inner join runs
        on decisions.run_id = runs.run_id
    where
        decisions.record_type = 'lead'
        and decisions.decided_at > (select horizon.since from horizon)
),

-- The latest decision of another rule than sla_reroute started the run of re-routes.
run_starts as (
    select
        lead_id,
        min(recency) as start_recency
    from lead_decisions
    where rule != 'sla_reroute'
    group by lead_id
),

held as (
    select
        lead_decisions.lead_id,
        count(*) filter (where lead_decisions.rule = 'sla_reroute') as reroutes,
        {{ sorted_distinct_list('lead_decisions.owner_id') }} as held_by
    from lead_decisions
    left join run_starts
        on lead_decisions.lead_id = run_starts.lead_id
    where lead_decisions.recency <= coalesce(run_starts.start_recency, lead_decisions.recency)
    group by lead_decisions.lead_id
),

clocks as (
    select
        lead_id,
        owner_id,
        territory_id,
        decided_at as clock_started_at
    from lead_decisions
    where
        recency = 1
        and owner_id is not null
        and rule in ('territory', 'sla_reroute')
),

touches as (
    select
        clocks.lead_id,
        min(activities.occurred_at) as first_touch_at
    from clocks
    inner join {{ ref('stg_crm__activities') }} as activities
        on
            clocks.lead_id = activities.lead_id
            and clocks.owner_id = activities.rep_id
            and clocks.clock_started_at <= activities.occurred_at
    group by clocks.lead_id
),

leads as (
    select
        lead_id,
        source
    from {{ ref('stg_crm__leads') }}
)

select
    clocks.lead_id,
    clocks.owner_id,
    clocks.territory_id,
    clocks.clock_started_at,
    held.reroutes,
    held.held_by,
    touches.first_touch_at,
    leads.source
from clocks
inner join leads
    on clocks.lead_id = leads.lead_id
inner join held
    on clocks.lead_id = held.lead_id
left join touches
    on clocks.lead_id = touches.lead_id
