{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        unique_key=['rep_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- One row per rep per as-of date, kept across runs (re-running a date replaces its rows), so
-- workload history is a query. The index formula is in int_reps_workload_indexed.
-- days_over_high_water counts consecutive days up to this one with an index at or above
-- var('high_water'): yesterday's count plus one, or 0 when today is below. It is computed
-- when the row is written, from the previous calendar day's row (a day without a run breaks
-- the streak).
with

today as (
    select * from {{ ref('int_reps_workload_indexed') }}
),

previous_day as (
    {% if is_incremental() %}
    select
        rep_id,
        days_over_high_water
    from {{ this }}
    where as_of_date = {{ as_of_date() }} - 1
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as rep_id,
        cast(null as integer) as days_over_high_water
    where false
    {% endif %}
)

select
    today.rep_id,
    today.as_of_date,
    today.measured_at,
    today.active_accounts,
    today.pipeline_accounts,
    today.inbound_last_7d,
    today.activities_last_30d,
    today.activity_density,
    today.capacity,
    today.workload_index,
    {{ numeric_var('high_water') }} as high_water,
    {{ numeric_var('release') }} as release,
    today.workload_index >= {{ numeric_var('high_water') }} as is_over_high_water,
    today.workload_index < {{ numeric_var('release') }} as is_below_release,
    case
        when today.workload_index >= {{ numeric_var('high_water') }}
            then coalesce(previous_day.days_over_high_water, 0) + 1
        else 0
    end as days_over_high_water
from today
left join previous_day
    on today.rep_id = previous_day.rep_id
