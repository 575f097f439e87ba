-- Each account's place in its corporate hierarchy: parent, ultimate parent and depth, found by
-- walking parent links with a recursive CTE. A walk stops when it would revisit an account
-- (has_cycle), when the parent is not a known account (has_missing_parent) or after
-- var('max_hierarchy_depth') links (is_depth_capped); cyclic and capped hierarchies have no
-- ultimate parent. An account without a parent is its own ultimate parent (depth 0).
-- An incremental build walks up from the accounts in scope only, through the whole book.
{{
    config(
        materialized=scoped_materialization(),
        pre_hook="{{ delete_in_scope('account', 'account_id') }}",
        tags=['arrivals'],
        incremental_strategy='delete+insert',
        unique_key='account_id',
    )
}}

with recursive

accounts as (
    select
        account_id,
        parent_account_id
    from {{ ref('stg_crm__accounts') }}
),

in_scope as (
    select
        account_id,
        parent_account_id
    from {{ ref('stg_crm__accounts') }}
    where {{ in_scope('account', 'account_id') }}
),

-- Only accounts with a parent link are walked: most accounts have none, and their row is
-- known without a walk (their own ultimate parent, depth 0). At 1M accounts the walk of
-- every account cost about 3.5 s, building a path list per account.
walk_from as (
    select * from in_scope
    where parent_account_id is not null
),

roots as (
    select * from in_scope
    where parent_account_id is null
),

hierarchy as (
    select
        account_id,
        account_id as ancestor_id,
        0 as depth,
        {{ dbt.array_construct(['account_id']) }} as path,
        false as is_cycle
    from walk_from

    union all

    select
        hierarchy.account_id,
        parents.account_id as ancestor_id,
        hierarchy.depth + 1 as depth,
        {{ dbt.array_append('hierarchy.path', 'parents.account_id') }} as path,
        {{ list_has('hierarchy.path', 'parents.account_id') }} as is_cycle
    from hierarchy
    inner join accounts as ancestors
        on hierarchy.ancestor_id = ancestors.account_id
    inner join accounts as parents
        on ancestors.parent_account_id = parents.account_id
    where
        not hierarchy.is_cycle
        and hierarchy.depth < {{ var('max_hierarchy_depth') }}
),

walk_steps as (
    select
        account_id,
        ancestor_id,
        depth,
        path,
        is_cycle,
        row_number() over (partition by account_id order by depth desc) as step_rank
    from hierarchy
),

deepest as (
    select
        account_id,
        ancestor_id,
        depth,
        path,
        is_cycle
    from walk_steps
    where step_rank = 1
),

top_of_walk as (
    select
        deepest.*,
        top_account.parent_account_id as top_parent_account_id,
        parent_account.account_id is not null as top_parent_exists
    from deepest
    inner join accounts as top_account
        on deepest.ancestor_id = top_account.account_id
    left join accounts as parent_account
        on top_account.parent_account_id = parent_account.account_id
)

select
    accounts.account_id,
    accounts.parent_account_id,
    case
        when not top_of_walk.is_cycle and not top_of_walk.top_parent_exists
            then top_of_walk.ancestor_id
    end as ultimate_parent_account_id,
    case
        when top_of_walk.is_cycle then top_of_walk.depth - 1 else top_of_walk.depth
    end as hierarchy_depth,
    top_of_walk.is_cycle as has_cycle,
    (
        not top_of_walk.is_cycle and top_of_walk.top_parent_account_id is not null
        and not top_of_walk.top_parent_exists
    ) as has_missing_parent,
    (not top_of_walk.is_cycle and top_of_walk.top_parent_exists) as is_depth_capped,
    case
        when top_of_walk.is_cycle
            then {{ list_range('top_of_walk.path', 1, list_length('top_of_walk.path') ~ ' - 1') }}
        else top_of_walk.path
    end as hierarchy_path
from walk_from as accounts
inner join top_of_walk
    on accounts.account_id = top_of_walk.account_id

union all

select
    account_id,
    parent_account_id,
    account_id as ultimate_parent_account_id,
    0 as hierarchy_depth,
    false as has_cycle,
    false as has_missing_parent,
    false as is_depth_capped,
    {{ dbt.array_construct(['account_id']) }} as hierarchy_path
from roots
