-- dim_accounts for an arrivals pass: the accounts it reads (int_arrival_records), those in
-- its scope and those its records need as context. A view: the records are the pass's.
{{ config(materialized='view') }}

with

records as (
    select record_id as account_id
    from {{ ref('int_arrival_records') }}
    where record_type = 'account'
)

select accounts.*
from {{ ref('dim_accounts') }} as accounts
where accounts.account_id in (select records.account_id from records)
