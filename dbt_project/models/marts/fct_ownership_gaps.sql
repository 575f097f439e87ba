-- Every account whose owner cannot carry it, one row per account, with the reason (first
-- matching case wins):
--   unowned            no owner_id;
--   unknown_owner      owner_id is not a CRM user in the reps export;
--   deactivated, terminated, role_change, not_in_hr
--                      the owner's availability (int_reps_joined_to_hr): not a valid owner;
--   on_leave, data_problem
--                      the owner keeps the book (is_owner_valid) but takes nothing new: a
--                      coverage gap, not an ownership problem;
--   outside_territory  a valid owner who belongs to at least one territory, while the account
--                      matches territories and the owner is a member of none of them, and
--                      the account is not named to that owner (directly or through its parent
--                      or ultimate parent).
-- gap_since: created_at for unowned; for rep reasons the HR date (status_start, else HR
-- updated_at), else when the availability was first observed (snap_rep_availability), else
-- the as-of timestamp, and never before the account was created; for unknown_owner and
-- outside_territory, since the current owner was first observed (snap_account_ownership).
with

accounts as (
    select
        account_id,
        owner_id,
        parent_account_id,
        tier,
        created_at
    from {{ ref('stg_crm__accounts') }}
),

hierarchy as (
    select
        account_id,
        ultimate_parent_account_id
    from {{ ref('int_accounts_rolled_up_to_parents') }}
),

reps as (
    select * from {{ ref('int_reps_joined_to_hr') }}
),

open_pipeline as (
    select distinct account_id
    from {{ ref('stg_crm__opportunities') }}
    where is_open
),

owner_history as (
    select
        account_id,
        dbt_valid_from as owner_observed_since
    from {{ ref('snap_account_ownership') }}
    where dbt_valid_to is null
),

availability_history as (
    select
        rep_id,
        dbt_valid_from as availability_observed_since
    from {{ ref('snap_rep_availability') }}
    where dbt_valid_to is null
),

members as (
    select
        territory_id,
        rep_id
    from {{ ref('stg_plan__territory_members') }}
),

owner_territories as (
    select
        rep_id,
        count(distinct territory_id) as territory_count
    from members
    group by rep_id
),

coverage as (
    select
        matches.account_id,
        count(*) as matched_territory_count,
        count(members.rep_id) as owner_territory_match_count
    from {{ ref('int_accounts_matched_to_territories') }} as matches
    inner join accounts
        on matches.account_id = accounts.account_id
    left join members
        on
            matches.territory_id = members.territory_id
            and accounts.owner_id = members.rep_id
    group by matches.account_id
),

named_to_owner as (
    select distinct accounts.account_id
    from accounts
    left join hierarchy
        on accounts.account_id = hierarchy.account_id
    inner join {{ ref('stg_crm__named_accounts') }} as named_accounts
        on
            accounts.owner_id = named_accounts.owner_id
            and named_accounts.account_id in (
                accounts.account_id,
                accounts.parent_account_id,
                hierarchy.ultimate_parent_account_id
            )
),

classified as (
    select
        accounts.account_id,
        accounts.owner_id,
        accounts.tier,
        accounts.created_at,
        reps.availability as owner_availability,
        coalesce(reps.is_valid_owner, false) as is_owner_valid,
        reps.status_start,
        reps.hr_updated_at,
        owner_history.owner_observed_since,
        availability_history.availability_observed_since,
        open_pipeline.account_id is not null as has_open_pipeline,
        {{ as_of_timestamp() }} as as_of,
        case
            when accounts.owner_id is null then 'unowned'
            when reps.rep_id is null then 'unknown_owner'
            when reps.availability != 'available' then reps.availability
            when
                coverage.matched_territory_count > 0
                and coverage.owner_territory_match_count = 0
                and coalesce(owner_territories.territory_count, 0) > 0
                and named_to_owner.account_id is null
                then 'outside_territory'
        end as reason
    from accounts
    left join reps
        on accounts.owner_id = reps.rep_id
    left join open_pipeline
        on accounts.account_id = open_pipeline.account_id
    left join owner_history
        on accounts.account_id = owner_history.account_id
    left join availability_history
        on accounts.owner_id = availability_history.rep_id
    left join coverage
        on accounts.account_id = coverage.account_id
    left join owner_territories
        on accounts.owner_id = owner_territories.rep_id
    left join named_to_owner
        on accounts.account_id = named_to_owner.account_id
),

dated as (
    select
        *,
        -- when the owner stopped being able to carry accounts, for the rep reasons
        case reason
            when 'role_change'
                then coalesce(hr_updated_at, availability_observed_since, as_of)
            when 'deactivated' then coalesce(availability_observed_since, as_of)
            when 'not_in_hr' then coalesce(availability_observed_since, as_of)
            when 'data_problem' then coalesce(availability_observed_since, as_of)
            -- terminated, on_leave: the HR status date first
            else
                coalesce(
                    cast(status_start as timestamp),
                    hr_updated_at,
                    availability_observed_since,
                    as_of
                )
        end as owner_gap_start
    from classified
    where reason is not null
),

gaps as (
    select
        *,
        case reason
            when 'unowned' then created_at
            when 'unknown_owner' then coalesce(owner_observed_since, created_at)
            when 'outside_territory' then coalesce(owner_observed_since, as_of)
            else greatest(created_at, owner_gap_start)
        end as gap_since
    from dated
)

select
    account_id,
    owner_id,
    reason,
    gap_since,
    cast(greatest({{ timestamp_diff('second', 'gap_since', 'as_of') }}, 0) as double)
    / 3600 as gap_hours,
    has_open_pipeline,
    tier,
    owner_availability,
    is_owner_valid
from gaps
