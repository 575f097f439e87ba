-- Every territory each account and lead matches. Grain: (record_type, record_id,
-- territory_id, match_source); match_source is 'record' for a record's own attributes and
-- 'account' for a lead matched through its account. Several rows per record are a
-- multi-territory conflict, resolved by the engine.
{#- meta.record_scope: a later run's tests of this mart read the records in scope
    (get_where_subquery in macros/changes.sql). -#}
{{
    config(
        materialized=scoped_materialization(),
        pre_hook="{{ delete_in_scope(none, 'record_id') }}",
        tags=['arrivals'],
        meta={'record_scope': [none, 'record_id']},
        incremental_strategy='delete+insert',
        unique_key=['record_type', 'record_id'],
    )
}}

with

account_matches as (
    select
        'account' as record_type,
        matches.account_id as record_id,
        matches.territory_id,
        'record' as match_source
    from {{ ref('int_accounts_matched_to_territories') }} as matches
    where {{ in_scope('account', 'matches.account_id') }}
),

lead_matches as (
    select
        'lead' as record_type,
        matches.lead_id as record_id,
        matches.territory_id,
        matches.match_source
    from {{ ref('int_leads_matched_to_territories') }} as matches
    where {{ in_scope('lead', 'matches.lead_id') }}
),

matches as (
    select * from account_matches
    union all
    select * from lead_matches
),

territories as (
    select * from {{ ref('stg_plan__territories') }}
)

select
    matches.record_type,
    matches.record_id,
    matches.territory_id,
    territories.territory_name,
    matches.match_source,
    territories.priority,
    territories.specificity,
    territories.segment,
    territories.overflow_queue
from matches
inner join territories
    on matches.territory_id = territories.territory_id
