{#- Fails (with severity warn: warns) on every row whose |column| is more than `absolute`
    plus `relative` x `expected_column`: a member of a territory whose records drifted from
    the weighted expected share by more than 2 records + 10% of it (fct_territory_fairness).
    Rows with a null drift (no member available in the window) pass. -#}
{% test drift_within_tolerance(model, column_name, expected_column, absolute=2, relative=0.1) %}
    select *
    from {{ model }}
    where abs({{ column_name }}) > {{ absolute }} + {{ relative }} * abs({{ expected_column }})
{% endtest %}
