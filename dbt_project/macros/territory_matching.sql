{#- True when the record (alias `record`) meets every criterion of the territory (alias
    `territory`). Criteria that are empty (an empty list, a null band edge) match everything;
    a criterion that is set needs the record attribute to be present and to satisfy it:
    - countries / states: the record's ISO code is in the list;
    - postal_prefixes: the record's postal code starts with any prefix;
    - industries: case-insensitive equality;
    - employee and revenue bands: inclusive min, inclusive max.
    A null list counts as empty. -#}
{% macro territory_criteria_match(record, territory) -%}
    (
        (
            coalesce({{ list_length(territory ~ '.country_codes') }}, 0) = 0
            or coalesce({{ list_has(territory ~ '.country_codes', record ~ '.country_code') }}, false)
        )
        and (
            coalesce({{ list_length(territory ~ '.state_codes') }}, 0) = 0
            or coalesce({{ list_has(territory ~ '.state_codes', record ~ '.state_code') }}, false)
        )
        and (
            coalesce({{ list_length(territory ~ '.postal_prefixes') }}, 0) = 0
            or coalesce(
                {{ starts_with_any(record ~ '.postal_code', territory ~ '.postal_prefixes') }},
                false
            )
        )
        and (
            coalesce({{ list_length(territory ~ '.industry_keys') }}, 0) = 0
            or coalesce({{ list_has(territory ~ '.industry_keys', record ~ '.industry_key') }}, false)
        )
        and coalesce({{ territory }}.min_employees is null or {{ record }}.employees >= {{ territory }}.min_employees, false)
        and coalesce({{ territory }}.max_employees is null or {{ record }}.employees <= {{ territory }}.max_employees, false)
        and coalesce({{ territory }}.min_revenue is null or {{ record }}.annual_revenue >= {{ territory }}.min_revenue, false)
        and coalesce({{ territory }}.max_revenue is null or {{ record }}.annual_revenue <= {{ territory }}.max_revenue, false)
    )
{%- endmacro %}
