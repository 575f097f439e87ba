-- Every (account, territory) pair whose criteria the account meets; see the
-- territory_criteria_match macro for the rules. An account can match several territories
-- (a conflict the engine resolves) or none.
{{
    config(
        materialized=per_record_materialization(),
        pre_hook="{{ delete_changed('accounts', 'account_id') }}",
        tags=['arrivals'],
        incremental_strategy='delete+insert',
        unique_key='account_id',
    )
}}

with

accounts as (
    select
        account_id,
        country_code,
        state_code,
        postal_code,
        industry_key,
        employees,
        annual_revenue
    from {{ ref('stg_crm__accounts') }}
    where {{ per_record_scope('accounts', 'account_id') }}
),

territories as (
    select * from {{ ref('stg_plan__territories') }}
)

select
    accounts.account_id,
    territories.territory_id
from accounts
inner join territories
    on {{ territory_criteria_match('accounts', 'territories') }}
