{#- Fails when the model's row count differs from the compared model's (a reconciliation). -#}
{% test row_count_matches(model, compare_model) %}
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
