{#- Incremental builds on the change set (switchboard/changes.py). raw.changes lists the
    accounts, leads and opportunities that are new, changed or gone: after a full ingest,
    against the load before it; after an arrivals pass's ingest, the records it appended
    (all new). With var('changes') true (switchboard.pipeline.transform decides, see
    switchboard.changes.incremental_reason; an arrivals pass always) two kinds of model
    update instead of rebuilding; every other model is a table rebuilt from them, so an
    incremental build equals a full one (tests/e2e/test_incremental_equals_full.py).

    - Per record: models whose every row depends only on its own record (and on the
      territory plan, the reference tables and the project's settings): staging of
      accounts, leads and opportunities, the accounts' territory matches. They delete the
      changed and gone records and insert the new and changed ones.
    - Scoped: models that read other records as well as their own (hierarchy, lead
      matching, territory matches, dim_accounts, dim_leads). They delete and rebuild the
      records int_records_in_scope lists: the changed records and every record whose row
      reads one of them. -#}

{#- 'incremental' during an incremental build, 'table' otherwise (always on Spark, which
    has no delete+insert on Parquet tables: docs/decisions/0025). -#}
{% macro per_record_materialization() -%}
    {%- do return('incremental' if var('changes', false) and target.type != 'spark' else 'table') -%}
{%- endmacro %}

{#- A predicate on the record key of a per-record model: the new and changed records in
    an incremental build, true in a full build. `entity` is the raw entity ('accounts',
    'leads', 'opportunities'). With var('changes') the source is referenced while dbt
    parses too, so that the manifest lists it among the model's parents. -#}
{% macro per_record_scope(entity, key_column) -%}
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

{#- 'incremental' during an incremental build, 'table' otherwise. -#}
{% macro scoped_materialization() -%}
    {%- do return(per_record_materialization()) -%}
{%- endmacro %}

{#- True while a scoped model is being updated rather than rebuilt. -#}
{% macro in_scoped_build() -%}
    {%- do return(var('changes', false) and is_incremental()) -%}
{%- endmacro %}

{#- A predicate on a scoped model's record key: the records of `record_type` ('account' or
    'lead') int_records_in_scope lists in an incremental build; true in a full build. With
    var('changes') the scope model is referenced while dbt parses too, so that the
    manifest orders this model after it. -#}
{% macro in_scope(record_type, key_column) -%}
    {%- if var('changes', false) -%}
        {%- set scope = ref('int_records_in_scope') -%}
    {%- endif -%}
    {%- if var('changes', false) and is_incremental() -%}
        {{ records_in_scope(record_type, key_column, scope) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The predicate itself: `key_column` among the records of `record_type` in `scope` (the
    scope model's relation); `record_type` none, the model's own record_type column too. -#}
{% macro records_in_scope(record_type, key_column, scope) -%}
    {%- if record_type -%}
        {{ key_column }} in (
            select record_id from {{ scope }}
            where record_type = '{{ record_type }}'
        )
    {%- else -%}
        (record_type, {{ key_column }}) in (select record_type, record_id from {{ scope }})
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of a scoped model: in an incremental build, delete the rows of every record in
    scope, gone ones included (delete+insert alone would keep the rows of a record that
    left the export or now has none). `record_type` none: the model holds both kinds and
    names them in its record_type column. -#}
{% macro delete_in_scope(record_type, key_column) -%}
    {%- if var('changes', false) and is_incremental() -%}
        delete from {{ this }}
        where {{ records_in_scope(record_type, key_column, ref('int_records_in_scope')) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- A model's relation, named without ref(): int_records_in_scope compares with marts as
    the last build left them (they are built after it, so a ref would be a cycle; each
    orders itself after the scope model with a depends_on comment), and the tests of a
    later run read the scope model, which every scoped mart already follows. -#}
{% macro relation_of(model_name) -%}
    {%- if execute -%}
        {{ graph.nodes['model.' ~ project_name ~ '.' ~ model_name].relation_name }}
    {%- else -%}
        {{ model_name }}
    {%- endif -%}
{%- endmacro %}

{#- The data tests of a later run of the day check what the run changed (the whole suite
    ran in the day's first run): in an incremental build with var('data_tests_on_changes')
    true, a generic test of a model whose config names its `meta.record_scope`
    ([record_type, key_column], as its in_scope() call does) reads only the records in
    scope, unless the test says meta: {scope_to_changes: false} (a whole-table
    reconciliation). dbt wraps every generic test's model in this macro (it also applies a
    test's own `where`). -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where', '') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- if execute and var('changes', false) and var('data_tests_on_changes', false)
           and (config.get('meta') or {}).get('scope_to_changes', true) -%}
        {%- set tested = graph.nodes.get('model.' ~ project_name ~ '.' ~ relation.identifier) -%}
        {%- set scope = (tested.config.meta or {}).get('record_scope') if tested else none -%}
        {%- if scope -%}
            {%- do conditions.append(records_in_scope(
                scope[0], scope[1], relation_of('int_records_in_scope') | trim) | trim) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ')
                      ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
