{#- A routing decision that gives its record to a rep: not a queue, and not a manager
    review (which keeps the old owner until the manager hands the account over).
    `decisions` is the alias of a relation with routing.decisions' columns. -#}
{% macro gives_a_rep(decisions) -%}
    ({{ decisions }}.owner_id is not null and {{ decisions }}.rule != 'manager_review')
{%- endmacro %}
