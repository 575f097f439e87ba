{#- Arrivals passes. An arrivals pass runs the models that describe accounts and leads
    with var('arrivals') true: those models are then incremental (delete+insert on the
    record key; scoped_materialization in macros/changes.sql) and read only the records
    listed in routing.arrival_scope (the accounts and leads the pass's ingest appended), so a pass
    costs what the new records cost, not what the book costs. Everything else (reps,
    territories, workload) keeps the hourly build.

    The var is the same for every pass, so dbt's partial parsing holds from one pass to the
    next; which records a pass reads is data (the scope table), not a var. -#}

{#- True when this model is being updated by an arrivals pass. -#}
{% macro in_arrivals_pass() -%}
    {%- do return(var('arrivals', false) and is_incremental()) -%}
{%- endmacro %}

{#- A predicate on a record key: during an arrivals pass, only the records of
    `record_type` ('account' or 'lead') in routing.arrival_scope; otherwise true. With
    var('arrivals') set the source is referenced while dbt parses too (is_incremental() is
    false then), so that the arrivals manifest lists it among the model's parents. -#}
{% macro arrivals_only(record_type, key_column) -%}
    {%- if record_type not in ['account', 'lead'] -%}
        {{ exceptions.raise_compiler_error(
            "arrivals_only: record_type must be 'account' or 'lead'; got " ~ record_type) }}
    {%- endif -%}
    {%- if var('arrivals', false) -%}
        {%- set scope = source('routing', 'arrival_scope') -%}
    {%- endif -%}
    {%- if in_arrivals_pass() -%}
        {{ key_column }} in (
            select record_id from {{ scope }}
            where record_type = '{{ record_type }}'
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
