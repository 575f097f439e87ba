-- One row per lead: normalised contact and company attributes and the existing account the
-- lead was matched to (match_method crm_link, domain or company_name; null when none).
{#- meta.record_scope: a later run's tests of this mart read the records in scope
    (get_where_subquery in macros/changes.sql). -#}
{{
    config(
        materialized=scoped_materialization(),
        pre_hook="{{ delete_in_scope('lead', 'lead_id') }}",
        tags=['arrivals'],
        meta={'record_scope': ['lead', 'lead_id']},
        incremental_strategy='delete+insert',
        unique_key='lead_id',
    )
}}

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
    where {{ in_scope('lead', 'lead_id') }}
),

matches as (
    select * from {{ ref('int_leads_matched_to_accounts') }}
),

accounts as (
    select
        account_id,
        owner_id
    from {{ ref('stg_crm__accounts') }}
)

select
    leads.lead_id,
    leads.email,
    leads.email_domain,
    leads.is_personal_email,
    leads.company,
    leads.company_name_key,
    leads.domain,
    leads.owner_id,
    matches.matched_account_id,
    matches.match_method,
    matches.candidate_count as match_candidate_count,
    accounts.owner_id as matched_account_owner_id,
    leads.source,
    leads.country,
    leads.country_code,
    leads.state,
    leads.state_code,
    leads.postal_code,
    leads.industry,
    leads.industry_key,
    leads.employees,
    leads.required_skills,
    leads.created_at
from leads
left join matches
    on leads.lead_id = matches.lead_id
left join accounts
    on matches.matched_account_id = accounts.account_id
