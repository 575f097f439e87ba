-- One row per CRM account: normalised attributes, hierarchy, open pipeline, the owner's
-- availability and the account's segment (that of its best-matching territory: lowest
-- priority number, then most specific, then territory_id; null when no territory matches).
{#- meta.record_scope: a later run's tests of this mart read the records in scope
    (get_where_subquery in macros/changes.sql). -#}
{{
    config(
        materialized=scoped_materialization(),
        pre_hook="{{ delete_in_scope('account', 'account_id') }}",
        tags=['arrivals'],
        meta={'record_scope': ['account', 'account_id']},
        incremental_strategy='delete+insert',
        unique_key='account_id',
    )
}}

with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
    where {{ in_scope('account', 'account_id') }}
),

hierarchy as (
    select * from {{ ref('int_accounts_rolled_up_to_parents') }}
),

pipeline as (
    select
        account_id,
        count(*) as open_opportunity_count,
        sum(amount) as open_pipeline_amount
    from {{ ref('stg_crm__opportunities') }}
    where is_open
    group by account_id
),

ranked_territory_matches as (
    select
        matches.account_id,
        territories.segment,
        count(*) over (partition by matches.account_id) as territory_match_count,
        row_number() over (
            partition by matches.account_id
            order by
                territories.priority asc nulls last,
                territories.specificity desc,
                territories.territory_id asc
        ) as territory_rank
    from {{ ref('int_accounts_matched_to_territories') }} as matches
    {% if in_scoped_build() %}
    inner join accounts on matches.account_id = accounts.account_id
    {% endif %}
    inner join {{ ref('stg_plan__territories') }} as territories
        on matches.territory_id = territories.territory_id
),

territory_matches as (
    select
        account_id,
        segment,
        territory_match_count
    from ranked_territory_matches
    where territory_rank = 1
),

reps as (
    select
        rep_id,
        availability,
        is_valid_owner
    from {{ ref('int_reps_joined_to_hr') }}
)

select
    accounts.account_id,
    accounts.account_name,
    accounts.company_name_key,
    accounts.domain,
    accounts.owner_id,
    accounts.parent_account_id,
    hierarchy.ultimate_parent_account_id,
    hierarchy.hierarchy_depth,
    hierarchy.has_cycle as has_hierarchy_cycle,
    accounts.tier,
    territory_matches.segment,
    accounts.employees,
    accounts.annual_revenue,
    accounts.country,
    accounts.country_code,
    accounts.state,
    accounts.state_code,
    accounts.postal_code,
    accounts.industry,
    accounts.industry_key,
    accounts.created_at,
    pipeline.account_id is not null as has_open_pipeline,
    coalesce(pipeline.open_opportunity_count, 0) as open_opportunity_count,
    coalesce(pipeline.open_pipeline_amount, 0) as open_pipeline_amount,
    coalesce(territory_matches.territory_match_count, 0) as territory_match_count,
    case
        when accounts.owner_id is null then 'unowned'
        when reps.rep_id is null then 'unknown_owner'
        else reps.availability
    end as owner_availability,
    coalesce(reps.is_valid_owner, false) as has_valid_owner
from accounts
left join hierarchy
    on accounts.account_id = hierarchy.account_id
left join pipeline
    on accounts.account_id = pipeline.account_id
left join territory_matches
    on accounts.account_id = territory_matches.account_id
left join reps
    on accounts.owner_id = reps.rep_id
