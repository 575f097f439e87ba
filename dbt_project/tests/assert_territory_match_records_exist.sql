-- Reconciliation: every record in fct_territory_matches is an account in dim_accounts or a
-- lead in dim_leads.
select matches.*
from {{ ref('fct_territory_matches') }} as matches
left join {{ ref('dim_accounts') }} as accounts
    on
        matches.record_type = 'account'
        and matches.record_id = accounts.account_id
left join {{ ref('dim_leads') }} as leads
    on
        matches.record_type = 'lead'
        and matches.record_id = leads.lead_id
where accounts.account_id is null and leads.lead_id is null
