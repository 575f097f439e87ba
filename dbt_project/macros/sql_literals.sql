{#- A Jinja list of strings as a list-of-strings literal (cross_db/lists.sql). -#}
{% macro varchar_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(string_literal(value | string) | trim) -%}
    {%- endfor -%}
    cast({{ dbt.array_construct(quoted) }} as {{ string_list_type() }})
{%- endmacro %}

{#- A numeric var as a double literal, failing loudly when it is not a number. -#}
{% macro numeric_var(name) -%}
    {%- set value = var(name) -%}
    {%- if value is not number -%}
        {{ exceptions.raise_compiler_error("var('" ~ name ~ "') must be a number; got " ~ value) }}
    {%- endif -%}
    cast({{ value }} as double)
{%- endmacro %}

{#- A Jinja list of strings as the items of a SQL `in (...)` list ('a', 'b'), quotes
    doubled; any warehouse accepts it (a var holding a list reaches SQL this way). An empty
    list renders as null, which is in no list. -#}
{% macro string_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ quoted | join(', ') if quoted else 'null' }}
{%- endmacro %}
