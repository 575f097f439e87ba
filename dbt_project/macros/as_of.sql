{#- The run's as-of timestamp (UTC, timestamp without time zone) from var('as_of'): an ISO
    8601 string, naive meaning UTC ("2026-03-01T09:00:00"), or with an offset / Z, converted
    to UTC. Empty means the current UTC time. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- set text = (as_of | string | trim) if as_of is not none else '' -%}
    {%- if text == '' -%}
        {{ utc_now() }}
    {%- else -%}
        {%- if "'" in text or '\\' in text or not text[:4].isdigit() -%}
            {{ exceptions.raise_compiler_error(
                "var('as_of') must be an ISO 8601 timestamp such as 2026-03-01T09:00:00; got "
                ~ text) }}
        {%- endif -%}
        {%- set time_part = text[10:] -%}
        {%- if '+' in time_part or '-' in time_part or text[-1:] in ['z', 'Z'] -%}
            {{ utc_timestamp_from_offset(text) }}
        {%- else -%}
            cast('{{ text }}' as timestamp)
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro as_of_date() -%}
    cast({{ as_of_timestamp() }} as date)
{%- endmacro %}

{#- Snapshots stamp dbt_valid_from / dbt_valid_to with the as-of timestamp rather than the
    wall clock, so replaying snapshots with earlier as-of values builds a coherent history. -#}
{% macro duckdb__snapshot_get_time() -%}
    {{ as_of_timestamp() }}
{%- endmacro %}
