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

{#- 'incremental' during an incremental build, 'table' otherwise. -#}
{% macro per_record_materialization() -%}
    {%- do return('incremental' if var('changes', false) else 'table') -%}
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
        {{ key_column }} in (
            select record_id from {{ scope }}
            where record_type = '{{ record_type }}'
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of a scoped model: in an incremental build, delete the rows of every record in
    scope, gone ones included (delete+insert alone would keep the rows of a record that
    left the export or now has none). `record_type` none: the model holds both kinds and
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
    true, a generic test of a scoped mart reads only the records in scope, unless it says
    meta: {scope_to_changes: false} (a whole-table reconciliation). dbt wraps every generic
    test's model in this macro (it also applies a test's own `where`). -#}
{% macro get_where_subquery(relation) -%}
    {%- set scoped = {
        'dim_accounts': "account_id in (select record_id from {scope} where record_type = 'account')",
        'dim_leads': "lead_id in (select record_id from {scope} where record_type = 'lead')",
        'fct_territory_matches': "(record_type, record_id) in (select record_type, record_id from {scope})",
    } -%}
    {%- set conditions = [] -%}
    {%- if config.get('where', '') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- if var('changes', false) and var('data_tests_on_changes', false)
           and relation.identifier in scoped
           and (config.get('meta') or {}).get('scope_to_changes', true) -%}
        {%- do conditions.append(
            scoped[relation.identifier].replace('{scope}', relation_of('int_records_in_scope') | trim)) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ')
                      ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
