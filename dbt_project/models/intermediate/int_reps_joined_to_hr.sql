-- CRM users joined to the HR export by lower-cased e-mail, with their availability on the
-- as-of date (first matching case wins):
--   deactivated  the CRM user is inactive;
--   terminated   HR says terminated, effective on or before the as-of date (a termination
--                dated later leaves the rep available until then);
--   on_leave     HR says leave and the as-of date is in [status_start, status_end)
--                (no end date: open-ended leave);
--   role_change  the role (HR's when present, else CRM's) is not in var('carrying_roles');
--   not_in_hr    no HR row for the e-mail;
--   available    otherwise.
-- A valid owner keeps a book (available or on_leave); an available rep takes new records.
{%- set carrying_roles = var('carrying_roles') | map('lower') | list %}

with

reps as (
    select * from {{ ref('stg_crm__reps') }}
),

employees as (
    select * from {{ ref('stg_hr__employees') }}
),

joined as (
    select
        reps.rep_id,
        reps.rep_name,
        reps.email,
        reps.role as crm_role,
        employees.role as hr_role,
        coalesce(employees.role, reps.role) as role,
        coalesce(employees.role_key, reps.role_key) as role_key,
        reps.team,
        reps.segment,
        reps.manager_id,
        reps.capacity as crm_capacity,
        coalesce(reps.capacity, {{ var('default_capacity') }}) as capacity,
        reps.skills,
        reps.is_active as crm_is_active,
        employees.email is not null as is_in_hr,
        employees.status as hr_status,
        employees.status_start,
        employees.status_end,
        employees.updated_at as hr_updated_at,
        {{ as_of_date() }} as as_of_date
    from reps
    left join employees
        on reps.email = employees.email
),

assessed as (
    select
        *,
        coalesce(list_contains({{ varchar_list(carrying_roles) }}, role_key), false)
            as carries_accounts
    from joined
),

with_availability as (
    select
        *,
        case
            when not crm_is_active
                then 'deactivated'
            when
                hr_status = 'terminated'
                and coalesce(status_start <= as_of_date, true)
                then 'terminated'
            when
                hr_status = 'leave'
                and coalesce(status_start <= as_of_date, true)
                and coalesce(as_of_date < status_end, true)
                then 'on_leave'
            when not carries_accounts
                then 'role_change'
            when not is_in_hr
                then 'not_in_hr'
            else 'available'
        end as availability
    from assessed
)

select
    rep_id,
    rep_name,
    email,
    role,
    role_key,
    crm_role,
    hr_role,
    team,
    segment,
    manager_id,
    capacity,
    crm_capacity,
    skills,
    crm_is_active,
    is_in_hr,
    hr_status,
    status_start,
    status_end,
    hr_updated_at,
    carries_accounts,
    availability,
    availability in ('available', 'on_leave') as is_valid_owner,
    availability = 'available' as is_available,
    as_of_date
from with_availability
