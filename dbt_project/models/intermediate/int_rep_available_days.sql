-- How many days of each fairness window (fairness_windows(): the 7 and 30 days ending at
-- the as-of date) each rep was available, for the expected shares of fct_territory_fairness.
-- A day is unavailable when
--   HR dates it: status leave with the day in [status_start, status_end) (no start: since
--     before the window; no end: open-ended), or status terminated with the day on or
--     after status_start (the rules of int_reps_joined_to_hr, applied to each day);
--   or the availability history had the rep unavailable that day: a snap_rep_availability
--     version other than 'available' that began on or before the day and ended after it
--     (the current version, this build's, runs through the as-of date). This dates what HR
--     gives no date for (a CRM deactivation, a role change, a held row) from the run that
--     first saw it; before the first run the history says nothing and only HR's dates count.
-- Every other day counts as available.
{%- set longest = fairness_window_days().split(',') | map('int') | max %}

with

reps as (
    select
        rep_id,
        hr_status,
        status_start,
        status_end
    from {{ ref('int_reps_joined_to_hr') }}
),

unavailable_versions as (
    select
        rep_id,
        cast(dbt_valid_from as date) as unavailable_from,
        cast(dbt_valid_to as date) as unavailable_until
    from {{ ref('snap_rep_availability') }}
    where availability != 'available'
),

windows as (
    {{ fairness_windows() }}
),

days as (
    select
        cast(
            {{ dbt.dateadd('day', 'generated_number - ' ~ longest, as_of_date()) }} as date
        ) as day
    from ({{ dbt.generate_series(longest) }}) as series
),

observed_unavailable_days as (
    select distinct
        unavailable_versions.rep_id,
        days.day
    from unavailable_versions
    inner join days
        on
            unavailable_versions.unavailable_from <= days.day
            and (
                unavailable_versions.unavailable_until is null
                or unavailable_versions.unavailable_until > days.day
            )
),

rep_days as (
    select
        reps.rep_id,
        days.day,
        not coalesce(
            (
                reps.hr_status = 'leave'
                and coalesce(reps.status_start <= days.day, true)
                and coalesce(days.day < reps.status_end, true)
            )
            or (
                reps.hr_status = 'terminated'
                and coalesce(reps.status_start <= days.day, true)
            )
            or observed_unavailable_days.rep_id is not null,
            false
        ) as is_available
    from reps
    cross join days
    left join observed_unavailable_days
        on
            reps.rep_id = observed_unavailable_days.rep_id
            and days.day = observed_unavailable_days.day
)

select
    rep_days.rep_id,
    windows.window_days,
    windows.window_start,
    windows.window_end,
    count(case when rep_days.is_available then 1 end) as available_days
from rep_days
inner join windows
    on rep_days.day between windows.window_start and windows.window_end
group by
    rep_days.rep_id,
    windows.window_days,
    windows.window_start,
    windows.window_end
