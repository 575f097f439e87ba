{#- Timestamps (without time zone, in UTC) and their arithmetic. Both engines read
    `timestamp - interval 7 day`, so that form is written out in the models. -#}

{#- The current UTC time. -#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'switchboard')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}

{#- Spark's timestamp is an instant shown in the session's time zone, which
    switchboard.spark.session sets to UTC (and cluster profiles must too). -#}
{% macro spark__utc_now() -%}
    current_timestamp()
{%- endmacro %}

{#- An ISO 8601 text with an offset or Z ('2026-03-01T10:00:00+01:00') as the UTC time. -#}
{% macro utc_timestamp_from_offset(text) -%}
    {{ return(adapter.dispatch('utc_timestamp_from_offset', 'switchboard')(text)) }}
{%- endmacro %}

{% macro default__utc_timestamp_from_offset(text) -%}
    cast(timezone('UTC', cast({{ string_literal(text) }} as timestamptz)) as timestamp)
{%- endmacro %}

{% macro spark__utc_timestamp_from_offset(text) -%}
    cast({{ string_literal(text) }} as timestamp)
{%- endmacro %}

{#- Whole `unit`s (second, microsecond, ...) from `start` to `end`. dbt.datediff counts
    sub-second units on Spark from the timestamp's text; Spark's timestampdiff counts them
    exactly. -#}
{% macro timestamp_diff(unit, start, end) -%}
    {{ return(adapter.dispatch('timestamp_diff', 'switchboard')(unit, start, end)) }}
{%- endmacro %}

{% macro default__timestamp_diff(unit, start, end) -%}
    date_diff('{{ unit }}', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__timestamp_diff(unit, start, end) -%}
    timestampdiff({{ unit | upper }}, {{ start }}, {{ end }})
{%- endmacro %}
