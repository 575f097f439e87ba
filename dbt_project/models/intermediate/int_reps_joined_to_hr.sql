-- CRM users joined to the HR export by lower-cased e-mail, with their availability on the
-- as-of date (first matching case wins):
--   deactivated   the CRM user is inactive;
--   terminated    HR says terminated, effective on or before the as-of date (a termination
--                 dated later leaves the rep available until then), or said so the last
--                 time the e-mail was in the HR export;
--   on_leave      HR says leave and the as-of date is in [status_start, status_end)
--                 (no end date: open-ended leave);
--   role_change   the role (HR's when present, else CRM's) is not in var('carrying_roles');
--   data_problem  no evidence either way: the rep's reps row is broken or missing from this
--                 export, the HR row is broken, or the e-mail has been missing from HR for
--                 fewer than var('missing_exports') consecutive exports;
--   not_in_hr     missing from HR for var('missing_exports') consecutive exports;
--   available     otherwise.
-- A valid owner keeps a book (available, on_leave, data_problem); an available rep takes new
-- records. Only evidence (the first four, or an absence repeated export after export) moves
-- a book: a broken cell or a file that left a rep out once holds the rep instead.
{%- set carrying_roles = var('carrying_roles') | map('lower') | list %}
{%- set missing_exports = var('missing_exports') | int %}

with

crm_reps as (
    select * from {{ ref('stg_crm__reps') }}
),

roster as (
    select * from {{ ref('stg_ingest__rep_roster') }}
),

employees as (
    select * from {{ ref('stg_hr__employees') }}
),

-- Reps this export lists broken, or leaves out fewer than var('missing_exports') times in a
-- row, as the last good row the roster kept.
held as (
    select *
    from roster
    where
        reps_problem_reason is not null
        and missing_reps_exports < {{ missing_exports }}
        and rep_id not in (select crm_reps.rep_id from crm_reps)
),

reps as (
    select
        rep_id,
        rep_name,
        email,
        role,
        role_key,
        team,
        segment,
        manager_id,
        capacity,
        skills,
        timezone,
        working_hours,
        is_active,
        slack_user_id,
        false as is_held
    from crm_reps
    union all
    select
        rep_id,
        rep_name,
        email,
        role,
        role_key,
        team,
        segment,
        manager_id,
        capacity,
        skills,
        timezone,
        working_hours,
        is_active,
        slack_user_id,
        true as is_held
    from held
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
        reps.timezone,
        reps.working_hours,
        reps.is_active as crm_is_active,
        reps.slack_user_id,
        employees.email is not null as is_in_hr,
        employees.status as hr_status,
        employees.status_start,
        employees.status_end,
        employees.updated_at as hr_updated_at,
        reps.is_held,
        roster.reps_problem_column,
        roster.reps_problem_value,
        roster.reps_problem_reason,
        roster.missing_reps_exports,
        roster.hr_problem_column,
        roster.hr_problem_value,
        roster.hr_problem_reason,
        -- a rep the roster does not know yet has been missed by this export only
        coalesce(roster.missing_hr_exports, 1) as missing_hr_exports,
        roster.last_hr_status,
        roster.last_hr_status_start,
        {{ as_of_date() }} as as_of_date
    from reps
    left join employees
        on reps.email = employees.email
    left join roster
        on reps.rep_id = roster.rep_id
),

assessed as (
    select
        *,
        coalesce({{ list_has(varchar_list(carrying_roles), 'role_key') }}, false)
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
            -- HR dropped a terminated employee from its export: still terminated
            when
                not is_in_hr
                and last_hr_status = 'terminated'
                and coalesce(last_hr_status_start <= as_of_date, true)
                then 'terminated'
            when
                hr_status = 'leave'
                and coalesce(status_start <= as_of_date, true)
                and coalesce(as_of_date < status_end, true)
                then 'on_leave'
            when not carries_accounts
                then 'role_change'
            when is_held or (not is_in_hr and hr_problem_reason is not null)
                then 'data_problem'
            when not is_in_hr and missing_hr_exports >= {{ missing_exports }}
                then 'not_in_hr'
            when not is_in_hr
                then 'data_problem'
            else 'available'
        end as availability
    from assessed
),

-- What is wrong, for a data_problem rep: the column, the value and one sentence.
explained as (
    select
        *,
        case
            when availability != 'data_problem' then null
            when is_held then reps_problem_column
            when hr_problem_reason is not null then hr_problem_column
            else 'email'
        end as data_problem_column,
        case
            when availability != 'data_problem' then null
            when is_held then reps_problem_value
            when hr_problem_reason is not null then hr_problem_value
            else email
        end as data_problem_value,
        case
            when availability != 'data_problem' then null
            when is_held and reps_problem_column = 'rep_id' and missing_reps_exports > 0
                then 'missing from the reps export ('
                    || missing_reps_exports || ' of {{ missing_exports }} consecutive exports'
                    || ' before it counts as a departure)'
            when is_held then 'reps row: ' || reps_problem_reason
            when hr_problem_reason is not null then 'HR row: ' || hr_problem_reason
            else 'no HR row for ' || coalesce(email, 'the e-mail') || ' ('
                || missing_hr_exports || ' of {{ missing_exports }} consecutive exports'
                || ' before it counts as a departure)'
        end as data_problem
    from with_availability
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
    timezone,
    working_hours,
    crm_is_active,
    slack_user_id,
    is_in_hr,
    hr_status,
    status_start,
    status_end,
    hr_updated_at,
    carries_accounts,
    availability,
    availability in ('available', 'on_leave', 'data_problem') as is_valid_owner,
    availability = 'available' as is_available,
    data_problem_column,
    data_problem_value,
    data_problem,
    as_of_date
from explained
