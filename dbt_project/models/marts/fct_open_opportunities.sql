-- Open (not closed) opportunities; their owners take precedence in routing.
-- Rebuilt after int_records_in_scope, which reads this mart as the last build left it:
-- depends_on: {{ ref('int_records_in_scope') }}
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

reps as (
    select
        rep_id,
        availability,
        is_available
    from {{ ref('int_reps_joined_to_hr') }}
)

select
    opportunities.opportunity_id,
    opportunities.account_id,
    opportunities.owner_id,
    opportunities.stage,
    opportunities.amount,
    opportunities.created_at,
    coalesce(reps.availability, 'unknown_owner') as owner_availability,
    coalesce(reps.is_available, false) as owner_is_available
from opportunities
left join reps
    on opportunities.owner_id = reps.rep_id
where opportunities.is_open
