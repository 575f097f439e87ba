{#- Incremental builds on the change set. Every full ingest records which accounts, leads
    and opportunities are new, changed or gone since the load before it (raw.changes,
    switchboard/changes.py). The models whose every row depends only on its own record
    (and on the territory plan, the reference tables and the project's settings) are
    "per record": when switchboard.pipeline.transform finds the last build was made from
    exactly the change set's base load under the same settings and territory plan, it
    builds with var('changes') true, and those models delete the gone records and
    delete+insert the new and changed ones instead of rebuilding. Every other model is a
    table rebuilt from them, so an incremental build equals a full one
    (tests/e2e/test_incremental_equals_full.py). During an arrivals pass they behave like
    the other arrivals models (macros/arrivals.sql). -#}

{#- 'incremental' during an incremental build or an arrivals pass, 'table' otherwise. -#}
{% macro per_record_materialization() -%}
    {%- do return('incremental' if var('changes', false) or var('arrivals', false)
                  else 'table') -%}
{%- endmacro %}

{#- A predicate on the record key of a per-record model: the records an incremental build
    or an arrivals pass updates; true in a full build. `entity` is the raw entity
    ('accounts', 'leads', 'opportunities'). -#}
{% macro per_record_scope(entity, key_column) -%}
    {%- set record_type = entity[:-1] -%}
    {%- if var('arrivals', false) and record_type in ['account', 'lead'] -%}
        {{ arrivals_only(record_type, key_column) }}
    {%- elif var('arrivals', false) -%}
        true
    {%- else -%}
        {{ changed_only(entity, key_column) }}
    {%- endif -%}
{%- endmacro %}

{#- With var('changes') the source is referenced while dbt parses too, so that the
    manifest lists it among the model's parents (as arrivals_only does). -#}
{% macro changed_only(entity, key_column) -%}
    {%- if var('changes', false) -%}
        {%- set changes = source('ingest', 'changes') -%}
    {%- endif -%}
    {%- if var('changes', false) and is_incremental() -%}
        {{ key_column }} in (
            select record_id from {{ changes }}
            where entity = '{{ entity }}' and change in ('new', 'changed')
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of a per-record model: in an incremental build, delete every row of the
    records that changed or are gone. delete+insert alone would leave the rows of a changed
    record that now has none (an account that no longer matches any territory). -#}
{% macro delete_changed(entity, key_column) -%}
    {%- if var('changes', false) and is_incremental() -%}
        delete from {{ this }} where {{ key_column }} in (
            select record_id from {{ source('ingest', 'changes') }}
            where entity = '{{ entity }}'
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The models that read other records as well as their own (hierarchy, territory matches,
    lead-to-account matching, dim_accounts, dim_leads) are "scoped": in an incremental
    build they rebuild only the records int_records_in_scope lists (the changed records
    and every record whose row reads one of them; see that model), in an arrivals pass
    only the new records (macros/arrivals.sql), and in a full build everything. -#}

{#- 'incremental' during an incremental build or an arrivals pass, 'table' otherwise. -#}
{% macro scoped_materialization() -%}
    {%- do return(per_record_materialization()) -%}
{%- endmacro %}

{#- True while a scoped model is being updated rather than rebuilt. -#}
{% macro in_scoped_build() -%}
    {%- do return((var('changes', false) or var('arrivals', false)) and is_incremental()) -%}
{%- endmacro %}

{#- A predicate on a scoped model's record key: the records of `record_type` ('account' or
    'lead') this build updates; true in a full build. With var('changes') the scope model
    is referenced while dbt parses too, so that the manifest orders this model after it. -#}
{% macro in_scope(record_type, key_column) -%}
    {%- if var('arrivals', false) -%}
        {{ arrivals_only(record_type, key_column) }}
    {%- else -%}
        {%- if var('changes', false) -%}
            {%- set scope = ref('int_records_in_scope') -%}
        {%- endif -%}
        {%- if var('changes', false) and is_incremental() -%}
            {{ key_column }} in (
                select record_id from {{ scope }}
                where record_type = '{{ record_type }}'
            )
        {%- else -%}
            true
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of a scoped model: in an incremental build, delete the rows of every record in
    scope, gone ones included (delete+insert alone would keep the rows of a record that
    left the export or now has none). `record_type` null: the model holds both kinds and
    names them in its record_type column. -#}
{% macro delete_in_scope(record_type, key_column) -%}
    {%- if var('changes', false) and is_incremental() -%}
        delete from {{ this }} where
        {%- if record_type %}
            {{ key_column }} in (
                select record_id from {{ ref('int_records_in_scope') }}
                where record_type = '{{ record_type }}'
            )
        {%- else %}
            exists (
                select 1 from {{ ref('int_records_in_scope') }} as scope
                where scope.record_type = {{ this }}.record_type
                    and scope.record_id = {{ this }}.{{ key_column }}
            )
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- A mart as the previous build left it, for int_records_in_scope to compare with: its
    relation, named without ref() (the mart is built after the scope model, which would
    otherwise be a cycle). The mart orders itself after int_records_in_scope with a
    depends_on comment, so it is read before it is rebuilt. -#}
{% macro previous_build(model_name) -%}
    {%- if execute -%}
        {{ graph.nodes['model.' ~ project_name ~ '.' ~ model_name].relation_name }}
    {%- else -%}
        {{ model_name }}
    {%- endif -%}
{%- endmacro %}
