-- One row per lead with the existing account it belongs to, if any. Methods, first that
-- finds an account wins:
--   crm_link      the lead's own account_id names a known account;
--   domain        the registered domain of the lead's e-mail (or else of its web domain),
--                 when not a personal mail provider, equals an account's domain;
--   company_name  the normalised company name equals an account's.
-- Several candidate accounts for the winning method are resolved deterministically: an
-- account without a parent (the parent company) first, then most employees, then account_id.
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
    select * from {{ ref('stg_crm__leads') }}
    where {{ in_scope('lead', 'lead_id') }}
),

accounts as (
    select
        account_id,
        domain,
        company_name_key,
        parent_account_id,
        employees
    from {{ ref('stg_crm__accounts') }}
),

crm_links as (
    select
        leads.lead_id,
        accounts.account_id,
        1 as method_rank,
        0 as domain_rank
    from leads
    inner join accounts
        on leads.account_id = accounts.account_id
),

lead_domains as (
    select
        lead_id,
        email_domain as match_domain,
        1 as domain_rank
    from leads
    where not is_personal_email and email_domain is not null

    union all

    select
        lead_id,
        domain as match_domain,
        2 as domain_rank
    from leads
    where not is_personal_domain and domain is not null
),

domain_matches as (
    select
        lead_domains.lead_id,
        accounts.account_id,
        2 as method_rank,
        lead_domains.domain_rank
    from lead_domains
    inner join accounts
        on lead_domains.match_domain = accounts.domain
),

company_name_matches as (
    select
        leads.lead_id,
        accounts.account_id,
        3 as method_rank,
        0 as domain_rank
    from leads
    inner join accounts
        on leads.company_name_key = accounts.company_name_key
),

candidates as (
    select * from crm_links
    union all
    select * from domain_matches
    union all
    select * from company_name_matches
),

candidate_methods as (
    select
        candidates.lead_id,
        candidates.account_id,
        candidates.method_rank,
        candidates.domain_rank,
        accounts.parent_account_id,
        accounts.employees,
        row_number() over (
            partition by candidates.lead_id, candidates.account_id
            order by candidates.method_rank, candidates.domain_rank
        ) as method_order
    from candidates
    inner join accounts
        on candidates.account_id = accounts.account_id
),

best_per_account as (
    -- an account found by several methods counts once, under its best method
    select
        lead_id,
        account_id,
        method_rank,
        domain_rank,
        parent_account_id,
        employees
    from candidate_methods
    where method_order = 1
),

candidates_ranked as (
    select
        lead_id,
        account_id,
        method_rank,
        count(*) over (partition by lead_id, method_rank) as candidate_count,
        row_number() over (
            partition by lead_id
            order by
                method_rank asc,
                domain_rank asc,
                parent_account_id is null desc,
                employees desc nulls last,
                account_id asc
        ) as candidate_order
    from best_per_account
),

ranked as (
    select
        lead_id,
        account_id,
        method_rank,
        candidate_count
    from candidates_ranked
    where candidate_order = 1
)

select
    leads.lead_id,
    ranked.account_id as matched_account_id,
    case ranked.method_rank
        when 1 then 'crm_link'
        when 2 then 'domain'
        when 3 then 'company_name'
    end as match_method,
    coalesce(ranked.candidate_count, 0) as candidate_count
from leads
left join ranked
    on leads.lead_id = ranked.lead_id
