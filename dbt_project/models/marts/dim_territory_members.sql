-- Territory membership with each member's availability on the as-of date.
with

members as (
    select * from {{ ref('stg_plan__territory_members') }}
),

territories as (
    select
        territory_id,
        territory_name,
        method
    from {{ ref('stg_plan__territories') }}
),

reps as (
    select
        rep_id,
        availability,
        is_available
    from {{ ref('int_reps_joined_to_hr') }}
)

select
    members.territory_id,
    members.rep_id,
    members.weight,
    members.is_primary,
    territories.territory_name,
    coalesce(territories.method, 'workload') as territory_method,
    reps.availability as rep_availability,
    coalesce(reps.is_available, false) as rep_is_available
from members
left join territories
    on members.territory_id = territories.territory_id
left join reps
    on members.rep_id = reps.rep_id
