{#- Text that differs between DuckDB (the default) and Spark SQL. -#}

{#- `text` as a SQL string literal. DuckDB takes backslashes literally and doubles quotes;
    Spark SQL reads backslash escapes in literals ('\s' would become 's'), so there each
    backslash and quote is escaped with a backslash. Regular expressions go through this. -#}
{% macro string_literal(text) -%}
    {{ return(adapter.dispatch('string_literal', 'switchboard')(text)) }}
{%- endmacro %}

{% macro default__string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__string_literal(text) -%}
    '{{ text | replace('\\', '\\\\') | replace("'", "\\'") }}'
{%- endmacro %}

{#- The text without accents ("Québec" -> "Quebec"). DuckDB's strip_accents removes every
    combining mark; Spark has no such function, so there the letters of Latin-1 and Latin
    Extended-A/B whose canonical decomposition is a letter plus marks are translated to that
    letter (the same result for them; letters of other scripts keep their marks). -#}
{% macro strip_accents(text) -%}
    {{ return(adapter.dispatch('strip_accents', 'switchboard')(text)) }}
{%- endmacro %}

{% macro default__strip_accents(text) -%}
    strip_accents({{ text }})
{%- endmacro %}

{% macro spark__strip_accents(text) -%}
    translate(
        {{ text }},
        'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǢǣǦǧǨǩǪǫǬǭǮǯǰǴǵǸǹǺǻǼǽǾǿȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ',
        'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaÆæGgKkOoOoƷʒjGgNnAaÆæØøAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy'
    )
{%- endmacro %}
