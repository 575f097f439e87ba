-- The first-touch clocks (int_lead_sla_clocks) that may have run out at the as-of: of a
-- lead whose source is one of var('sla_sources') (compared trimmed and lower-cased; an
-- empty list means every source), started within var('sla_horizon_days') of the as-of and
-- at least var('sla_first_touch_minutes') of wall time before it (working time never
-- exceeds wall time), and not touched by the as-of. Empty when routing.yml has no sla:
-- (var('sla_first_touch_minutes') null). Which of these ran out in the owner's working
-- hours is the engine's to decide (switchboard/engine/sla.py).
--
-- A view over a view of the routing log: a run's decisions count as soon as it records
-- them. The as-of is the build's; an arrivals pass recreates the view with its own (tag
-- arrivals), and a run reusing the day's marts refreshes it.
{{ config(materialized='view', tags=['arrivals', 'as_of_view']) }}

{%- set minutes = var('sla_first_touch_minutes', none) %}
{%- set horizon_days = var('sla_horizon_days') %}
{%- set sources = var('sla_sources', []) %}

with

clocks as (
    select * from {{ ref('int_lead_sla_clocks') }}
)

select
    lead_id,
    owner_id,
    territory_id,
    clock_started_at,
    reroutes,
    held_by,
    first_touch_at,
    source
from clocks
{%- if minutes is none %}
where false
{%- else %}
where
    clock_started_at > {{ dbt.dateadd('day', '-1 * ' ~ horizon_days, as_of_timestamp()) }}
    and clock_started_at <= {{ dbt.dateadd('minute', '-1 * ' ~ minutes, as_of_timestamp()) }}
    and (first_touch_at is null or first_touch_at > {{ as_of_timestamp() }})
    {%- if sources %}
    and lower(trim(source)) in ({{ string_list(sources) }})
    {%- endif %}
{%- endif %}
