-- Inbound leads: lower-cased e-mail, the e-mail's registered domain and whether it belongs
-- to a personal mail provider, the same for the lead's web domain, ISO codes and the
-- company-name matching key. One row per raw lead row.
{{
    config(
        materialized=per_record_materialization(),
        pre_hook="{{ delete_changed('leads', 'lead_id') }}",
        tags=['arrivals'],
        incremental_strategy='delete+insert',
        unique_key='lead_id',
    )
}}

with

source as (
    select * from {{ source('crm', 'leads') }}
    where {{ per_record_scope('leads', 'lead_id') }}
),

-- Materialized: the regular expressions below run once per row, not once per reader
-- (DuckDB would otherwise inline the CTE into each of them).
cleaned as {{ materialized_cte() }} (
    select
        _row_number,
        trim(lead_id) as lead_id,
        lower({{ clean_text('email') }}) as email,
        {{ normalize_host('email') }} as email_host,
        {{ clean_text('company') }} as company,
        {{ company_name_key('company') }} as company_name_key,
        {{ clean_text('domain') }} as domain_input,
        {{ normalize_host('domain') }} as domain_host,
        {{ clean_text('country') }} as country,
        {{ clean_text('state') }} as state,
        {{ postal_key('postal_code') }} as postal_code,
        {{ clean_text('industry') }} as industry,
        lower({{ clean_text('industry') }}) as industry_key,
        employees,
        {{ clean_text('source') }} as source,
        coalesce(required_skills, {{ empty_string_list() }}) as required_skills,
        {{ clean_text('account_id') }} as account_id,
        {{ clean_text('owner_id') }} as owner_id,
        created_at
    from source
),

hosts as (
    select email_host as host from cleaned
    union
    select domain_host as host from cleaned
),

registered_domains as (
    {{ registered_domain_lookup('hosts', 'host') }}
),

personal_domains as (
    select distinct lower(trim(domain)) as domain
    from {{ ref('personal_email_domains') }}
),

domains_resolved as (
    select
        cleaned.*,
        coalesce(email_domains.registered_domain, cleaned.email_host) as email_domain,
        coalesce(web_domains.registered_domain, cleaned.domain_host) as domain
    from cleaned
    left join registered_domains as email_domains
        on cleaned.email_host = email_domains.host
    left join registered_domains as web_domains
        on cleaned.domain_host = web_domains.host
),

with_country as (
    {{ resolve_geography('domains_resolved') }}
)

select
    with_country.lead_id,
    with_country.email,
    with_country.email_host,
    with_country.email_domain,
    coalesce(
        with_country.email_host in (select personal_domains.domain from personal_domains)
        or with_country.email_domain in (select personal_domains.domain from personal_domains),
        false
    ) as is_personal_email,
    with_country.company,
    with_country.company_name_key,
    with_country.domain,
    with_country.domain_host,
    with_country.domain_input,
    coalesce(
        with_country.domain_host in (select personal_domains.domain from personal_domains)
        or with_country.domain in (select personal_domains.domain from personal_domains),
        false
    ) as is_personal_domain,
    with_country.country,
    with_country.country_code,
    with_country.state,
    with_country.state_code,
    with_country.postal_code,
    with_country.industry,
    with_country.industry_key,
    with_country.employees,
    with_country.source,
    with_country.required_skills,
    with_country.account_id,
    with_country.owner_id,
    with_country.created_at,
    with_country._row_number
from with_country
