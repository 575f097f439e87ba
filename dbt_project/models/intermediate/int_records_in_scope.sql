-- The accounts and leads an incremental build updates in the scoped models
-- (macros/changes.sql): every record whose row in those models may differ from the last
-- build's, one row per (record_type, record_id). Empty in a full build, which rebuilds
-- everything. The territory plan is the same as the last build's (otherwise the build is
-- a full one: switchboard.changes.incremental_reason).
--
-- An account is in scope when
--   - it is new, changed or gone (raw.changes);
--   - an account above it in its hierarchy is (its ultimate parent, depth, cycle or
--     missing-parent flags may change): every account below a changed one, walking down
--     the parent links of this export;
--   - one of its open opportunities is new, changed or gone, under this export's account
--     or the last build's (fct_open_opportunities as the last build left it);
--   - its owner's availability or validity changed (int_reps_joined_to_hr against the last
--     build's dim_reps): a leaver, a deactivation, a role change.
-- A lead is in scope when
--   - it is new, changed or gone;
--   - a changed account's id, domain or company-name key, old (dim_accounts as the last
--     build left it) or new, is one the lead matches on: the lead's match, or the match's
--     owner, may change.
-- A superset is harmless (more records are rebuilt); a record missing here would keep a
-- stale row, which tests/e2e/test_incremental_equals_full.py looks for.
{{ config(materialized='table', tags=['arrivals']) }}

{%- if var('changes', false) %}

with recursive

changes as (
    select
        entity,
        record_id
    from {{ source('ingest', 'changes') }}
),

changed_accounts as (
    select record_id as account_id
    from changes
    where entity = 'accounts'
),

accounts as (
    select
        account_id,
        parent_account_id,
        owner_id,
        domain,
        company_name_key
    from {{ ref('stg_crm__accounts') }}
),

-- UNION, not UNION ALL: the walk ends when it finds no account it has not seen (cycles).
below_changed (account_id) as (
    select account_id
    from changed_accounts

    union

    select children.account_id
    from below_changed
    inner join accounts as children
        on below_changed.account_id = children.parent_account_id
),

changed_opportunities as (
    select record_id as opportunity_id
    from changes
    where entity = 'opportunities'
),

pipeline_accounts as (
    select opportunities.account_id
    from {{ ref('stg_crm__opportunities') }} as opportunities
    inner join changed_opportunities
        on opportunities.opportunity_id = changed_opportunities.opportunity_id

    union all

    select previous.account_id
    from {{ relation_of('fct_open_opportunities') }} as previous
    inner join changed_opportunities
        on previous.opportunity_id = changed_opportunities.opportunity_id
),

rep_state as (
    select
        rep_id,
        availability,
        is_valid_owner
    from {{ ref('int_reps_joined_to_hr') }}
),

previous_rep_state as (
    select
        rep_id,
        availability,
        is_valid_owner
    from {{ relation_of('dim_reps') }}
),

rep_state_now_only as (
    select * from rep_state
    except
    select * from previous_rep_state
),

rep_state_before_only as (
    select * from previous_rep_state
    except
    select * from rep_state
),

changed_reps as (
    select rep_id from rep_state_now_only
    union
    select rep_id from rep_state_before_only
),

owned_by_changed_reps as (
    select accounts.account_id
    from accounts
    inner join changed_reps
        on accounts.owner_id = changed_reps.rep_id
),

accounts_in_scope as (
    select account_id from below_changed
    union
    select account_id from pipeline_accounts
    union
    select account_id from owned_by_changed_reps
),

-- What leads match accounts on, for the changed accounts: as they are now and as the
-- last build had them.
changed_account_keys as (
    select
        accounts.account_id,
        accounts.domain,
        accounts.company_name_key
    from accounts
    inner join changed_accounts
        on accounts.account_id = changed_accounts.account_id

    union all

    select
        previous.account_id,
        previous.domain,
        previous.company_name_key
    from {{ relation_of('dim_accounts') }} as previous
    inner join changed_accounts
        on previous.account_id = changed_accounts.account_id
),

leads as (
    select
        lead_id,
        account_id,
        email_domain,
        domain,
        company_name_key
    from {{ ref('stg_crm__leads') }}
),

leads_in_scope as (
    select record_id as lead_id
    from changes
    where entity = 'leads'

    union

    -- one equi-join per key: a join on any of them would compare every pair
    select leads.lead_id
    from leads
    inner join changed_account_keys as changed
        on leads.account_id = changed.account_id

    union

    select leads.lead_id
    from leads
    inner join changed_account_keys as changed
        on leads.email_domain = changed.domain

    union

    select leads.lead_id
    from leads
    inner join changed_account_keys as changed
        on leads.domain = changed.domain

    union

    select leads.lead_id
    from leads
    inner join changed_account_keys as changed
        on leads.company_name_key = changed.company_name_key
)

select
    'account' as record_type,
    account_id as record_id
from accounts_in_scope
where account_id is not null

union all

select
    'lead' as record_type,
    lead_id as record_id
from leads_in_scope
where lead_id is not null

{%- else %}

select
    cast(null as {{ dbt.type_string() }}) as record_type,
    cast(null as {{ dbt.type_string() }}) as record_id
where false

{%- endif %}
