{#- Arrivals passes. The hourly run rebuilds every model as a table. An arrivals pass runs
    the models that describe accounts and leads with var('arrivals_since') set: those
    models are then incremental (delete+insert on the record key) and read only the records
    created after that timestamp, so a pass costs what the new records cost, not what the
    book costs. Everything else (reps, territories, workload) keeps the hourly build. -#}

{% macro arrivals_since() -%}
    {%- do return(var('arrivals_since', none)) -%}
{%- endmacro %}

{#- 'incremental' during an arrivals pass, 'table' otherwise; used in config(). -#}
{% macro arrivals_materialization() -%}
    {%- do return('incremental' if arrivals_since() else 'table') -%}
{%- endmacro %}

{#- True when this model is being updated by an arrivals pass. -#}
{% macro in_arrivals_pass() -%}
    {%- do return(arrivals_since() is not none and is_incremental()) -%}
{%- endmacro %}

{#- A predicate on a created_at column: during an arrivals pass, only the records created
    after the watermark and at or before the pass's as-of (later ones are the next pass's);
    otherwise true. -#}
{% macro arrivals_only(created_at) -%}
    {%- set since = arrivals_since() | string | trim -%}
    {%- if in_arrivals_pass() and ("'" in since or not since[:4].isdigit()) -%}
        {{ exceptions.raise_compiler_error(
            "var('arrivals_since') must be an ISO 8601 timestamp; got " ~ since) }}
    {%- endif -%}
    {%- if in_arrivals_pass() -%}
        ({{ created_at }} > cast('{{ since }}' as timestamp)
        and {{ created_at }} <= {{ as_of_timestamp() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
