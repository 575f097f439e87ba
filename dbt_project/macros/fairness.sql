{#- The windows fct_territory_fairness measures, in days ending at the as-of date (the
    as-of date is each window's last day). Text, not a returned list, so that the models
    also render for sqlfluff: read it with fairness_window_days().split(',') | map('int'). -#}
{% macro fairness_window_days() -%}
    7,30
{%- endmacro %}

{#- One row per window: window_days, window_start (first day), window_end (the as-of date). -#}
{% macro fairness_windows() -%}
    {%- for days in fairness_window_days().split(',') | map('int') %}
    select
        {{ days }} as window_days,
        cast({{ dbt.dateadd('day', 1 - days, as_of_date()) }} as date) as window_start,
        {{ as_of_date() }} as window_end
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
