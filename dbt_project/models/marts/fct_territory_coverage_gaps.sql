-- Records no territory matches, neither on their own attributes nor, for a lead, through its
-- matched account, by record type and country: how many, how many need an owner (an
-- account without a valid owner; a lead whose owner is not a valid owner in dim_reps, or
-- none) and up to three examples (the first record ids, with the account's name or the
-- lead's e-mail). A record's segment is that of its best territory, so records in a gap
-- have none: they are grouped by country only. `switchboard report coverage` shows these
-- rows; the warn test warn_records_matching_no_territory counts the records needing an owner.
with

valid_owners as (
    select rep_id
    from {{ ref('dim_reps') }}
    where is_valid_owner
),

records as (
    select
        'account' as record_type,
        account_id as record_id,
        account_name as record_name,
        country_code,
        not coalesce(has_valid_owner, false) as needs_owner
    from {{ ref('dim_accounts') }}
    union all
    select
        'lead' as record_type,
        leads.lead_id as record_id,
        leads.email as record_name,
        leads.country_code,
        valid_owners.rep_id is null as needs_owner
    from {{ ref('dim_leads') }} as leads
    left join valid_owners
        on leads.owner_id = valid_owners.rep_id
),

matched as (
    select distinct
        record_type,
        record_id
    from {{ ref('fct_territory_matches') }}
),

unmatched as (
    select
        records.record_type,
        records.record_id,
        records.needs_owner,
        coalesce(records.country_code, 'unknown country') as country,
        case
            when records.record_name is null then records.record_id
            else records.record_id || ' (' || records.record_name || ')'
        end as example
    from records
    left join matched
        on
            records.record_type = matched.record_type
            and records.record_id = matched.record_id
    where matched.record_id is null
)

select
    record_type,
    country,
    count(*) as records,
    count(*) filter (where needs_owner) as needing_owner,
    {{ ordered_string_agg('example', "', '", 'record_id', limit=3) }} as examples
from unmatched
group by
    record_type,
    country
