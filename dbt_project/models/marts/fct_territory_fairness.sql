-- How fairly the territory rule's capacity pick shared records among each territory's
-- members, per fairness window (the 7 and 30 days ending at the as-of date): one row per
-- territory, window and member of today's plan.
--   records                  what the pick gave the member (int_territory_pick_records);
--   weighted_available_days  weight x the days of the window the member was available
--                            (int_rep_available_days);
--   expected_records         territory_records x the member's share of the territory's
--                            weighted available days (null when no member was available
--                            on any day of the window);
--   drift_records            records - expected_records: positive got more than the share;
--   records_per_weighted_day records / weighted_available_days (null without any);
--   territory_max_abs_drift_records, territory_gini
--                            per territory and window: the largest |drift_records|, and the
--                            Gini coefficient of records_per_weighted_day over the members
--                            with weighted available days (0 = even, towards 1 = one member
--                            took all; 0 when nobody got anything).
-- Records given to a rep who is no longer a member of the territory are not counted.
-- The pick balances workload, not counts: a member at or above high-water is skipped
-- (docs/OPERATIONS.md, "Territory fairness", says how to read the drift).
--
-- A view, like int_territory_pick_records: a run's picks show once it records them.
{{ config(materialized='view') }}

with

members as (
    select
        territory_id,
        territory_name,
        rep_id,
        weight
    from {{ ref('dim_territory_members') }}
),

reps as (
    select
        rep_id,
        rep_name
    from {{ ref('dim_reps') }}
),

windows as (
    {{ fairness_windows() }}
),

available as (
    select
        rep_id,
        window_days,
        available_days
    from {{ ref('int_rep_available_days') }}
),

picks as (
    select
        territory_id,
        rep_id,
        window_days,
        records
    from {{ ref('int_territory_pick_records') }}
),

member_windows as (
    select
        members.territory_id,
        members.territory_name,
        windows.window_days,
        windows.window_start,
        windows.window_end,
        members.rep_id,
        reps.rep_name,
        members.weight,
        coalesce(available.available_days, 0) as available_days,
        members.weight * coalesce(available.available_days, 0) as weighted_available_days,
        coalesce(picks.records, 0) as records
    from members
    cross join windows
    left join reps
        on members.rep_id = reps.rep_id
    left join available
        on
            members.rep_id = available.rep_id
            and windows.window_days = available.window_days
    left join picks
        on
            members.territory_id = picks.territory_id
            and members.rep_id = picks.rep_id
            and windows.window_days = picks.window_days
),

territory_totals as (
    select
        *,
        cast(
            sum(records) over (partition by territory_id, window_days) as bigint
        ) as territory_records,
        sum(weighted_available_days) over (
            partition by territory_id, window_days
        ) as territory_weighted_available_days
    from member_windows
),

shares as (
    select
        *,
        case
            when territory_weighted_available_days > 0
                then weighted_available_days / territory_weighted_available_days
        end as expected_share,
        case
            when weighted_available_days > 0
                then records / weighted_available_days
        end as records_per_weighted_day
    from territory_totals
),

drifts as (
    select
        *,
        territory_records * expected_share as expected_records,
        records - territory_records * expected_share as drift_records
    from shares
),

ranked as (
    select
        territory_id,
        window_days,
        records_per_weighted_day as rate,
        row_number() over (
            partition by territory_id, window_days
            order by records_per_weighted_day
        ) as position
    from drifts
    where records_per_weighted_day is not null
),

-- G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n over the rates sorted ascending
gini as (
    select
        territory_id,
        window_days,
        case
            when sum(rate) > 0
                then
                    2.0 * sum(position * rate) / (count(*) * sum(rate))
                    - (count(*) + 1.0) / count(*)
            else 0.0
        end as territory_gini
    from ranked
    group by
        territory_id,
        window_days
)

select
    drifts.territory_id,
    drifts.territory_name,
    drifts.window_days,
    drifts.window_start,
    drifts.window_end,
    drifts.rep_id,
    drifts.rep_name,
    drifts.weight,
    drifts.available_days,
    drifts.weighted_available_days,
    drifts.records,
    drifts.territory_records,
    round(drifts.expected_share, 6) as expected_share,
    round(drifts.expected_records, 6) as expected_records,
    round(drifts.drift_records, 6) as drift_records,
    round(drifts.records_per_weighted_day, 6) as records_per_weighted_day,
    round(
        max(abs(drifts.drift_records)) over (
            partition by drifts.territory_id, drifts.window_days
        ),
        6
    ) as territory_max_abs_drift_records,
    round(gini.territory_gini, 6) as territory_gini
from drifts
left join gini
    on
        drifts.territory_id = gini.territory_id
        and drifts.window_days = gini.window_days
