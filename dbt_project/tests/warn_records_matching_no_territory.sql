{{ config(severity='warn') }}

-- Territory coverage warning: accounts and leads that need an owner (unowned, or an owner who
-- can no longer keep the book: has_valid_owner false, or for a lead an owner who is not a
-- valid owner in dim_reps) and that no territory matches, neither on their own attributes
-- nor, for a lead, through its matched account. The territory rule cannot place them, so
-- unless an open opportunity, the named list or the matched account's owner decides, they go
-- to the fallback queue. Usually a sign that the plan leaves a country, state or size band
-- uncovered; `switchboard report coverage` groups them by country.
with

reps as (
    select
        rep_id,
        is_valid_owner
    from {{ ref('dim_reps') }}
),

needing_owner as (
    select
        'account' as record_type,
        account_id as record_id,
        owner_id,
        country_code
    from {{ ref('dim_accounts') }}
    where not has_valid_owner
    union all
    select
        'lead' as record_type,
        leads.lead_id as record_id,
        leads.owner_id,
        leads.country_code
    from {{ ref('dim_leads') }} as leads
    left join reps
        on leads.owner_id = reps.rep_id
    where not coalesce(reps.is_valid_owner, false)
),

matched as (
    select distinct
        record_type,
        record_id
    from {{ ref('fct_territory_matches') }}
)

select
    needing_owner.record_type,
    needing_owner.record_id,
    needing_owner.owner_id,
    needing_owner.country_code
from needing_owner
left join matched
    on
        needing_owner.record_type = matched.record_type
        and needing_owner.record_id = matched.record_id
where matched.record_id is null
