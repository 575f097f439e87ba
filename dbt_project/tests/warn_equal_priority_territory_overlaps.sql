{{ config(severity='warn') }}

-- Territory coverage warning: accounts whose best (lowest) priority is shared by several
-- matching territories, so the conflict falls through to specificity and territory_id.
-- Usually a sign that two territories of the plan overlap by mistake.
with

account_matches as (
    select
        record_id as account_id,
        territory_id,
        priority,
        min(priority) over (partition by record_id) as best_priority
    from {{ ref('fct_territory_matches') }}
    where record_type = 'account' and match_source = 'record'
)

select
    account_id,
    best_priority,
    list(territory_id order by territory_id) as territories
from account_matches
where priority = best_priority
group by account_id, best_priority
having count(*) > 1
