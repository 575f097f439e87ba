{#- The windows fct_territory_fairness measures, in days ending at the as-of date (the
    as-of date is the window's last day). -#}
{% macro fairness_window_days() -%}
    {%- do return([7, 30]) -%}
{%- endmacro %}

{#- One row per window: window_days, window_start (first day), window_end (the as-of date). -#}
{% macro fairness_windows() -%}
    {%- for days in fairness_window_days() %}
    select
        {{ days }} as window_days,
        cast({{ dbt.dateadd('day', 1 - days, as_of_date()) }} as date) as window_start,
        {{ as_of_date() }} as window_end
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
