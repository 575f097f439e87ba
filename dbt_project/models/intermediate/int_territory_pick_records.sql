-- Records the territory rule's capacity pick gave each member, per territory and fairness
-- window (fairness_windows(): the 7 and 30 days ending at the as-of date): the distinct
-- records of routing.decisions with rule 'territory' and an owner, decided on a day of the
-- window and not after the as-of timestamp. New records and a leaver's accounts the pick
-- reassigned both count; leads that followed their account (rule account_owner), queues and
-- every other rule do not.
--
-- A view, like the routing log marts: a run records its decisions after its dbt build, and
-- its decided_at is its as-of, so its picks show the moment they are recorded.
{{ config(materialized='view') }}

with

picks as (
    select
        territory_id,
        owner_id as rep_id,
        record_type,
        record_id,
        cast(decided_at as date) as decided_date
    from {{ ref('stg_routing__decisions') }}
    where
        rule = 'territory'
        and territory_id is not null
        and owner_id is not null
        and decided_at <= {{ as_of_timestamp() }}
),

windows as (
    {{ fairness_windows() }}
)

select
    picks.territory_id,
    picks.rep_id,
    windows.window_days,
    count(distinct {{ dbt.concat(['picks.record_type', "':'", 'picks.record_id']) }})
        as records
from picks
inner join windows
    on picks.decided_date between windows.window_start and windows.window_end
group by
    picks.territory_id,
    picks.rep_id,
    windows.window_days
