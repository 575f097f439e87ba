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
            coalesce(len({{ territory }}.country_codes), 0) = 0
            or coalesce(list_contains({{ territory }}.country_codes, {{ record }}.country_code), false)
        )
        and (
            coalesce(len({{ territory }}.state_codes), 0) = 0
            or coalesce(list_contains({{ territory }}.state_codes, {{ record }}.state_code), false)
        )
        and (
            coalesce(len({{ territory }}.postal_prefixes), 0) = 0
            or coalesce(
                len(
                    list_filter(
                        {{ territory }}.postal_prefixes,
                        lambda prefix: starts_with({{ record }}.postal_code, prefix)
                    )
                ) > 0,
                false
            )
        )
        and (
            coalesce(len({{ territory }}.industry_keys), 0) = 0
            or coalesce(list_contains({{ territory }}.industry_keys, {{ record }}.industry_key), false)
        )
        and coalesce({{ territory }}.min_employees is null or {{ record }}.employees >= {{ territory }}.min_employees, false)
        and coalesce({{ territory }}.max_employees is null or {{ record }}.employees <= {{ territory }}.max_employees, false)
        and coalesce({{ territory }}.min_revenue is null or {{ record }}.annual_revenue >= {{ territory }}.min_revenue, false)
        and coalesce({{ territory }}.max_revenue is null or {{ record }}.annual_revenue <= {{ territory }}.max_revenue, false)
    )
{%- endmacro %}
