{#- Fails on every row where `expression` is not true (null counts as not true). On a column,
    the expression is still written out in full (`column_name` is not substituted). -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
