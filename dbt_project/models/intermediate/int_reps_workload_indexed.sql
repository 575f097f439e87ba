-- Each rep's workload on the as-of date, 100 = at capacity:
--   workload_index = 100 * (weight_active_accounts * active_accounts
--                           + weight_pipeline_accounts * pipeline_accounts
--                           + weight_inbound_last_7d * inbound_last_7d
--                           + weight_activity_density * activity_density) / capacity
--   active_accounts   accounts the rep owns;
--   pipeline_accounts owned accounts with at least one open opportunity;
--   inbound_last_7d   distinct records routed to the rep (routing.decisions) in the seven
--                     days up to the as-of timestamp;
--   activity_density  the rep's activities on accounts in the 30 days up to the as-of
--                     timestamp per owned account (0 without owned accounts or activities);
--                     an activity on a lead alone is no account work;
--   capacity          reps.capacity, else var('default_capacity').
-- The index is rounded to 6 decimals.
-- Weights come from routing.yml (workload.weights) through the weight_* vars.
with

reps as (
    select
        rep_id,
        capacity
    from {{ ref('int_reps_joined_to_hr') }}
),

accounts as (
    select
        account_id,
        owner_id
    from {{ ref('stg_crm__accounts') }}
    where owner_id is not null
),

open_pipeline as (
    select distinct account_id
    from {{ ref('stg_crm__opportunities') }}
    where is_open
),

owned as (
    select
        accounts.owner_id as rep_id,
        count(*) as active_accounts,
        count(open_pipeline.account_id) as pipeline_accounts
    from accounts
    left join open_pipeline
        on accounts.account_id = open_pipeline.account_id
    group by accounts.owner_id
),

inbound as (
    select
        owner_id as rep_id,
        count(distinct record_type || ':' || record_id) as inbound_last_7d
    from {{ ref('stg_routing__decisions') }}
    where
        owner_id is not null
        and decided_at > {{ as_of_timestamp() }} - interval 7 day
        and decided_at <= {{ as_of_timestamp() }}
    group by owner_id
),

activity as (
    select
        rep_id,
        count(*) as activities_last_30d
    from {{ ref('stg_crm__activities') }}
    where
        account_id is not null
        and occurred_at > {{ as_of_timestamp() }} - interval 30 day
        and occurred_at <= {{ as_of_timestamp() }}
    group by rep_id
),

components as (
    select
        reps.rep_id,
        {{ as_of_date() }} as as_of_date,
        {{ as_of_timestamp() }} as measured_at,
        coalesce(owned.active_accounts, 0) as active_accounts,
        coalesce(owned.pipeline_accounts, 0) as pipeline_accounts,
        coalesce(inbound.inbound_last_7d, 0) as inbound_last_7d,
        coalesce(activity.activities_last_30d, 0) as activities_last_30d,
        case
            when coalesce(owned.active_accounts, 0) > 0
                then coalesce(activity.activities_last_30d, 0) / owned.active_accounts
            else 0.0
        end as activity_density,
        reps.capacity
    from reps
    left join owned
        on reps.rep_id = owned.rep_id
    left join inbound
        on reps.rep_id = inbound.rep_id
    left join activity
        on reps.rep_id = activity.rep_id
)

select
    rep_id,
    as_of_date,
    measured_at,
    active_accounts,
    pipeline_accounts,
    inbound_last_7d,
    activities_last_30d,
    cast(activity_density as double) as activity_density,
    capacity,
    -- rounded to 6 decimals so equal inputs give equal indexes whatever the float order
    round(
        100.0 * (
            {{ numeric_var('weight_active_accounts') }} * active_accounts
            + {{ numeric_var('weight_pipeline_accounts') }} * pipeline_accounts
            + {{ numeric_var('weight_inbound_last_7d') }} * inbound_last_7d
            + {{ numeric_var('weight_activity_density') }} * activity_density
        ) / capacity,
        6
    ) as workload_index
from components
