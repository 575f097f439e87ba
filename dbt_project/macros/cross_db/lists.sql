{#- Lists: DuckDB's LIST (the default) and Spark's ARRAY. Positions are 1-based. -#}

{#- The type of a list of strings, for casts. -#}
{% macro string_list_type() -%}
    {{ return(adapter.dispatch('string_list_type', 'switchboard')()) }}
{%- endmacro %}

{% macro default__string_list_type() -%}
    varchar[]
{%- endmacro %}

{% macro spark__string_list_type() -%}
    array<string>
{%- endmacro %}

{#- An empty list of strings. -#}
{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list', 'switchboard')()) }}
{%- endmacro %}

{% macro default__empty_string_list() -%}
    cast([] as varchar[])
{%- endmacro %}

{% macro spark__empty_string_list() -%}
    cast(array() as array<string>)
{%- endmacro %}

{#- The number of elements; null for a null list. -#}
{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length', 'switchboard')(list)) }}
{%- endmacro %}

{% macro default__list_length(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro spark__list_length(list) -%}
    size({{ list }})
{%- endmacro %}

{#- Whether the list holds `value` (null when either is null, or when not found and the
    list holds a null). -#}
{% macro list_has(list, value) -%}
    {{ return(adapter.dispatch('list_has', 'switchboard')(list, value)) }}
{%- endmacro %}

{% macro default__list_has(list, value) -%}
    list_contains({{ list }}, {{ value }})
{%- endmacro %}

{% macro spark__list_has(list, value) -%}
    array_contains({{ list }}, {{ value }})
{%- endmacro %}

{#- Elements `first` to `last`, both included (empty when last < first). -#}
{% macro list_range(list, first, last) -%}
    {{ return(adapter.dispatch('list_range', 'switchboard')(list, first, last)) }}
{%- endmacro %}

{% macro default__list_range(list, first, last) -%}
    list_slice({{ list }}, {{ first }}, {{ last }})
{%- endmacro %}

{% macro spark__list_range(list, first, last) -%}
    slice({{ list }}, {{ first }}, greatest(({{ last }}) - ({{ first }}) + 1, 0))
{%- endmacro %}

{#- Whether `text` starts with any element of `prefixes` (false for an empty list, null
    when `text` is null and the list is not empty). -#}
{% macro starts_with_any(text, prefixes) -%}
    {{ return(adapter.dispatch('starts_with_any', 'switchboard')(text, prefixes)) }}
{%- endmacro %}

{% macro default__starts_with_any(text, prefixes) -%}
    len(list_filter({{ prefixes }}, lambda prefix: starts_with({{ text }}, prefix))) > 0
{%- endmacro %}

{% macro spark__starts_with_any(text, prefixes) -%}
    exists({{ prefixes }}, prefix -> startswith({{ text }}, prefix))
{%- endmacro %}

{#- The distinct non-null values of field `field` of a list of structs, sorted. -#}
{% macro list_field_values(list, field) -%}
    {{ return(adapter.dispatch('list_field_values', 'switchboard')(list, field)) }}
{%- endmacro %}

{% macro default__list_field_values(list, field) -%}
    list_sort(list_distinct(list_transform({{ list }}, lambda item: item.{{ field }})))
{%- endmacro %}

{% macro spark__list_field_values(list, field) -%}
    array_sort(array_distinct(
        filter(transform({{ list }}, item -> item.{{ field }}), value -> value is not null)
    ))
{%- endmacro %}

{#- The elements joined into one string with `separator` (a SQL string). -#}
{% macro list_join(list, separator) -%}
    {{ return(adapter.dispatch('list_join', 'switchboard')(list, separator)) }}
{%- endmacro %}

{% macro default__list_join(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro spark__list_join(list, separator) -%}
    array_join({{ list }}, {{ separator }})
{%- endmacro %}

{#- `text` split at each occurrence of the one-character `delimiter` (plain text). -#}
{% macro split_to_list(text, delimiter) -%}
    {{ return(adapter.dispatch('split_to_list', 'switchboard')(text, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_list(text, delimiter) -%}
    string_split({{ text }}, {{ string_literal(delimiter) }})
{%- endmacro %}

{#- Spark's split takes a regular expression: the delimiter as a character class. -#}
{% macro spark__split_to_list(text, delimiter) -%}
    {%- if delimiter | length != 1 -%}
        {{ exceptions.raise_compiler_error("split_to_list takes a one-character delimiter") }}
    {%- endif -%}
    split({{ text }}, {{ string_literal('[' ~ delimiter ~ ']') }})
{%- endmacro %}

{#- In a select list: one row per element of `list` (none for an empty or null list). -#}
{% macro unnest_list(list) -%}
    {{ return(adapter.dispatch('unnest_list', 'switchboard')(list)) }}
{%- endmacro %}

{% macro default__unnest_list(list) -%}
    unnest({{ list }})
{%- endmacro %}

{% macro spark__unnest_list(list) -%}
    explode({{ list }})
{%- endmacro %}

{#- In a select list: one row per integer from `first` to `last`, both included. -#}
{% macro unnest_series(first, last) -%}
    {{ return(adapter.dispatch('unnest_series', 'switchboard')(first, last)) }}
{%- endmacro %}

{% macro default__unnest_series(first, last) -%}
    unnest(generate_series({{ first }}, {{ last }}))
{%- endmacro %}

{% macro spark__unnest_series(first, last) -%}
    explode(sequence({{ first }}, {{ last }}))
{%- endmacro %}
