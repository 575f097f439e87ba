-- fct_open_opportunities for an arrivals pass: the open pipeline of the accounts it reads
-- (int_arrival_records). A view: the records are the pass's.
{{ config(materialized='view') }}

with

records as (
    select record_id as account_id
    from {{ ref('int_arrival_records') }}
    where record_type = 'account'
)

select opportunities.*
from {{ ref('fct_open_opportunities') }} as opportunities
where opportunities.account_id in (select records.account_id from records)
