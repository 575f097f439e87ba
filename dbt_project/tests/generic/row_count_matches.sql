{#- Fails when the model's row count differs from the compared model's (a reconciliation).
    A whole-table check: a later run's tests do not narrow it to the records in scope
    (get_where_subquery in macros/changes.sql). -#}
{% test row_count_matches(model, compare_model) %}
{{ config(meta={'scope_to_changes': false}) }}
with

counts as (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_model }}) as compared_rows
)

select *
from counts
where model_rows != compared_rows
{% endtest %}
