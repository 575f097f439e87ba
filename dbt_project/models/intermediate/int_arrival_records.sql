-- Every record an arrivals pass reads, one row per (record_type, record_id): the records
-- in its scope (int_arrival_scope), the leads whose first-touch clock may have run out
-- (int_lead_sla_clocks_due: the pass checks them), and the accounts those records need as
-- context: a lead's matched account (dim_leads) and the named accounts. The dim_arrival_*
-- and fct_arrival_* views read the marts' rows of these records only.
--
-- A view over views: the scope is written by the pass's ingest, after the last build.
{{ config(materialized='view') }}

with

scope as (
    select
        record_type,
        record_id
    from {{ ref('int_arrival_scope') }}
),

leads as (
    select record_id as lead_id
    from scope
    where record_type = 'lead'

    union

    select lead_id
    from {{ ref('int_lead_sla_clocks_due') }}
),

context_accounts as (
    select record_id as account_id
    from scope
    where record_type = 'account'

    union

    select dim_leads.matched_account_id as account_id
    from {{ ref('dim_leads') }} as dim_leads
    inner join leads
        on dim_leads.lead_id = leads.lead_id
    where dim_leads.matched_account_id is not null

    union

    select account_id
    from {{ ref('dim_named_accounts') }}
    where account_id is not null
)

select
    'account' as record_type,
    account_id as record_id
from context_accounts

union all

select
    'lead' as record_type,
    lead_id as record_id
from leads
