-- One row per CRM user with HR status and availability on the as-of date; see
-- int_reps_joined_to_hr for the availability rules.
-- Rebuilt after int_records_in_scope, which reads this mart as the last build left it:
-- depends_on: {{ ref('int_records_in_scope') }}
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
    skills,
    timezone,
    working_hours,
    crm_is_active,
    slack_user_id,
    is_in_hr,
    hr_status,
    status_start,
    status_end,
    carries_accounts,
    availability,
    is_valid_owner,
    is_available,
    data_problem_column,
    data_problem_value,
    data_problem,
    as_of_date
from {{ ref('int_reps_joined_to_hr') }}
