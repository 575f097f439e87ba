{#- Query hints one engine has and the other does not. -#}

{#- `name as {{ materialized_cte() }} (...)`: DuckDB computes the CTE once instead of
    inlining it into each reader; Spark has no such hint (its optimiser decides). -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'switchboard')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro spark__materialized_cte() -%}
{%- endmacro %}
