{#- Regular expressions. Patterns are given as plain text and rendered with
    string_literal(); both engines read the same syntax for the patterns used here (RE2 in
    DuckDB, java.util.regex in Spark). -#}

{#- `text` with every match of `pattern` replaced by `replacement`. -#}
{% macro regexp_replace_all(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'switchboard')(text, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ string_literal(pattern) }}, {{ string_literal(replacement) }}, 'g')
{%- endmacro %}

{#- Spark's regexp_replace replaces every match. -#}
{% macro spark__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ string_literal(pattern) }}, {{ string_literal(replacement) }})
{%- endmacro %}

{#- The first match of `pattern` in `text`, '' when there is none. -#}
{% macro regexp_match(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_match', 'switchboard')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_match(text, pattern) -%}
    regexp_extract({{ text }}, {{ string_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_match(text, pattern) -%}
    regexp_extract({{ text }}, {{ string_literal(pattern) }}, 0)
{%- endmacro %}

{#- True when the whole of `text` matches `pattern` (null for null). -#}
{% macro regexp_matches_whole(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches_whole', 'switchboard')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_matches_whole(text, pattern) -%}
    regexp_full_match({{ text }}, {{ string_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_matches_whole(text, pattern) -%}
    ({{ text }} rlike {{ string_literal('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}
