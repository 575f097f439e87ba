-- fct_territory_matches for an arrivals pass: the matches of the accounts in its scope
-- (int_arrival_scope; context accounts are not routed, their matches not needed) and of
-- every lead it reads (int_arrival_records). A view: the records are the pass's.
{{ config(materialized='view') }}

with

scope_accounts as (
    select record_id as account_id
    from {{ ref('int_arrival_scope') }}
    where record_type = 'account'
),

leads as (
    select record_id as lead_id
    from {{ ref('int_arrival_records') }}
    where record_type = 'lead'
)

select matches.*
from {{ ref('fct_territory_matches') }} as matches
where
    (
        matches.record_type = 'account'
        and matches.record_id in (select scope_accounts.account_id from scope_accounts)
    )
    or (
        matches.record_type = 'lead'
        and matches.record_id in (select leads.lead_id from leads)
    )
