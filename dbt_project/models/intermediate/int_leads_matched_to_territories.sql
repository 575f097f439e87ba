-- Every territory a lead matches, two ways: on its own attributes (match_source 'record')
-- and through the account it was matched to (match_source 'account', that account's
-- territories). Leads carry no annual revenue, so on their own they never meet a revenue
-- band.
{{
    config(
        materialized=scoped_materialization(),
        pre_hook="{{ delete_in_scope('lead', 'lead_id') }}",
        tags=['arrivals'],
        incremental_strategy='delete+insert',
        unique_key='lead_id',
    )
}}

with

leads as (
    select
        lead_id,
        country_code,
        state_code,
        postal_code,
        industry_key,
        employees,
        cast(null as double) as annual_revenue
    from {{ ref('stg_crm__leads') }}
    where {{ in_scope('lead', 'lead_id') }}
),

territories as (
    select * from {{ ref('stg_plan__territories') }}
),

lead_accounts as (
    select
        matches.lead_id,
        matches.matched_account_id
    from {{ ref('int_leads_matched_to_accounts') }} as matches
    inner join leads
        on matches.lead_id = leads.lead_id
    where matches.matched_account_id is not null
),

account_territories as (
    select * from {{ ref('int_accounts_matched_to_territories') }}
),

own_matches as (
    select
        leads.lead_id,
        territories.territory_id,
        'record' as match_source
    from leads
    inner join territories
        on {{ territory_criteria_match('leads', 'territories') }}
),

account_matches as (
    select
        lead_accounts.lead_id,
        account_territories.territory_id,
        'account' as match_source
    from lead_accounts
    inner join account_territories
        on lead_accounts.matched_account_id = account_territories.account_id
)

select * from own_matches
union all
select * from account_matches
