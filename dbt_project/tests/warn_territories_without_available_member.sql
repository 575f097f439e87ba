{{ config(severity='warn') }}

-- Territory coverage warning: territories where nobody takes new records on the as-of date,
-- because they have no members or every member is unavailable (on leave, terminated,
-- deactivated, moved to a role that carries no accounts, or missing from HR). Every record
-- the territory rule gives them goes to the territory's overflow queue until a member is
-- added or returns.
with

territories as (
    select
        territory_id,
        territory_name,
        overflow_queue
    from {{ ref('stg_plan__territories') }}
),

members as (
    select
        territory_id,
        rep_id,
        rep_availability,
        rep_is_available
    from {{ ref('dim_territory_members') }}
)

select
    territories.territory_id,
    territories.territory_name,
    territories.overflow_queue,
    count(members.rep_id) as member_count,
    list(
        members.rep_id || ' (' || coalesce(members.rep_availability, 'unknown') || ')'
        order by members.rep_id
    ) filter (where members.rep_id is not null) as members
from territories
left join members
    on territories.territory_id = members.territory_id
group by
    territories.territory_id,
    territories.territory_name,
    territories.overflow_queue
having not coalesce(bool_or(members.rep_is_available), false)
