-- CRM accounts: trimmed text, ISO country and subdivision codes, registered web domain,
-- company-name matching key. One row per raw account row.
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

source as (
    select * from {{ source('crm', 'accounts') }}
    where {{ per_record_scope('accounts', 'account_id') }}
),

-- Materialized: the regular expressions below run once per row, not once per reader
-- (DuckDB would otherwise inline the CTE into each of them).
cleaned as {{ materialized_cte() }} (
    select
        _row_number,
        trim(account_id) as account_id,
        trim(name) as account_name,
        {{ company_name_key('name') }} as company_name_key,
        {{ clean_text('domain') }} as domain_input,
        {{ normalize_host('domain') }} as domain_host,
        {{ clean_text('parent_account_id') }} as parent_account_id,
        {{ clean_text('country') }} as country,
        {{ clean_text('state') }} as state,
        {{ postal_key('postal_code') }} as postal_code,
        {{ clean_text('industry') }} as industry,
        lower({{ clean_text('industry') }}) as industry_key,
        employees,
        annual_revenue,
        tier,
        {{ clean_text('owner_id') }} as owner_id,
        created_at
    from source
),

registered_domains as (
    {{ registered_domain_lookup('cleaned', 'domain_host') }}
),

with_country as (
    {{ resolve_geography('cleaned') }}
)

select
    with_country.account_id,
    with_country.account_name,
    with_country.company_name_key,
    registered_domains.registered_domain as domain,
    with_country.domain_host,
    with_country.domain_input,
    with_country.parent_account_id,
    with_country.country,
    with_country.country_code,
    with_country.state,
    with_country.state_code,
    with_country.postal_code,
    with_country.industry,
    with_country.industry_key,
    with_country.employees,
    with_country.annual_revenue,
    with_country.tier,
    with_country.owner_id,
    with_country.created_at,
    with_country._row_number
from with_country
left join registered_domains
    on with_country.domain_host = registered_domains.host
