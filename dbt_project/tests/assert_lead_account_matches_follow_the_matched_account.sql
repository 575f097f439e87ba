-- A lead's 'account' territory matches are exactly its matched account's own matches.
with

lead_via_account as (
    select
        record_id as lead_id,
        territory_id
    from {{ ref('fct_territory_matches') }}
    where record_type = 'lead' and match_source = 'account'
),

expected as (
    select
        leads.lead_id,
        matches.territory_id
    from {{ ref('dim_leads') }} as leads
    inner join {{ ref('fct_territory_matches') }} as matches
        on
            matches.record_type = 'account'
            and leads.matched_account_id = matches.record_id
),

missing as (
    select * from expected
    except
    select * from lead_via_account
),

unexpected as (
    select * from lead_via_account
    except
    select * from expected
)

select
    'missing' as problem,
    *
from missing
union all
select
    'unexpected' as problem,
    *
from unexpected
