{#- Aggregates that build lists and strings from a group's rows. -#}

{#- The group's distinct non-null values of `expression`, sorted. -#}
{% macro sorted_distinct_list(expression) -%}
    {{ return(adapter.dispatch('sorted_distinct_list', 'switchboard')(expression)) }}
{%- endmacro %}

{% macro default__sorted_distinct_list(expression) -%}
    list_sort(list_distinct(list({{ expression }})))
{%- endmacro %}

{% macro spark__sorted_distinct_list(expression) -%}
    array_sort(collect_set({{ expression }}))
{%- endmacro %}

{#- The group's non-null values of `expression` in the order of `order_by` (an expression,
    ascending), the first `limit` of them when given, joined with `separator` (a SQL
    string). dbt.listagg cannot order on Spark: Spark sorts (order_by, value) pairs. -#}
{% macro ordered_string_agg(expression, separator, order_by, limit=none) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'switchboard')(
        expression, separator, order_by, limit)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(expression, separator, order_by, limit) -%}
    {%- if limit -%}
        array_to_string(
            list_slice(list({{ expression }} order by {{ order_by }}), 1, {{ limit }}), {{ separator }}
        )
    {%- else -%}
        string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__ordered_string_agg(expression, separator, order_by, limit) -%}
    {%- set ordered -%}
        transform(
            array_sort(collect_list(named_struct(
                'sort_key', {{ order_by }}, 'value', {{ expression }}
            ))),
            pair -> pair.value
        )
    {%- endset -%}
    {%- if limit -%}
        array_join(slice({{ ordered }}, 1, {{ limit }}), {{ separator }})
    {%- else -%}
        nullif(array_join({{ ordered }}, {{ separator }}), '')
    {%- endif -%}
{%- endmacro %}
