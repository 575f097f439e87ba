-- The named-account list with the designated owner's availability.
with

named_accounts as (
    select * from {{ ref('stg_crm__named_accounts') }}
),

accounts as (
    select account_id from {{ ref('stg_crm__accounts') }}
),

reps as (
    select
        rep_id,
        availability,
        is_valid_owner
    from {{ ref('int_reps_joined_to_hr') }}
)

select
    named_accounts.account_id,
    named_accounts.owner_id,
    named_accounts.tier,
    named_accounts.program,
    accounts.account_id is not null as account_exists,
    coalesce(reps.availability, 'unknown_owner') as owner_availability,
    coalesce(reps.is_valid_owner, false) as owner_is_valid
from named_accounts
left join accounts
    on named_accounts.account_id = accounts.account_id
left join reps
    on named_accounts.owner_id = reps.rep_id
