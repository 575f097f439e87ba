{#- Text cleaning and lookups shared by the staging models. Each returns a SQL expression
    (or, for registered_domain_lookup, a query) over the column or relation it is given. -#}

{#- Trimmed text, empty strings as null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- The key reference.countries / reference.subdivisions are looked up by: trimmed,
    lower-case, without accents, single spaces ("  Québec " -> "quebec"). The reference tables
    hold every spelling with and without its accents. -#}
{% macro lookup_key(column) -%}
    nullif({{ regexp_replace_all(strip_accents('lower(trim(' ~ column ~ '))'), '\\s+', ' ') }}, '')
{%- endmacro %}

{#- Postal codes compare upper-case without spaces ("sw1a 1aa" -> "SW1A1AA"). -#}
{% macro postal_key(column) -%}
    nullif(upper({{ regexp_replace_all(column, '\\s+', '') }}), '')
{%- endmacro %}

{#- A company name as a matching key: lower-case ASCII, punctuation stripped, "&" read as
    "and", a leading "the" and trailing legal-form words (inc, llc, ltd, gmbh, corp, co, sa,
    ag, plc, ...) removed. "The Acme Co., Ltd." -> "acme"; "Société Générale S.A." ->
    "societe generale". -#}
{% macro company_name_key(column) -%}
    {%- set text = strip_accents('lower(' ~ column ~ ')') -%}
    {%- set text = "replace(" ~ text ~ ", '&', ' and ')" -%}
    {%- set text = regexp_replace_all(text, "[.'’`]", '') -%}
    {%- set text = regexp_replace_all(text, '[^a-z0-9]+', ' ') -%}
    {%- set text = regexp_replace_all('trim(' ~ text ~ ')', '^the ', '') -%}
    {%- set legal_forms = 'and|inc|incorporated|llc|llp|lp|ltd|limited|gmbh|mbh|kg|corp|corporation|co|company|sa|sas|sarl|ag|se|nv|bv|plc|pty|pvt|srl|spa|oy|ab|as|kk' -%}
    nullif({{ regexp_replace_all(text, '( (' ~ legal_forms ~ '))+$', '') }}, '')
{%- endmacro %}

{#- The host name in a URL, e-mail address or bare host, lower-case, or null when there is
    none: "https://www.Shop.Foo.co.uk:443/x?y" -> "www.shop.foo.co.uk",
    "mailto:Ann@Foo.com" -> "foo.com". A host needs at least one dot and no spaces. -#}
{% macro normalize_host(column) -%}
    {%- set text = regexp_replace_all('lower(trim(' ~ column ~ '))', '^([a-z][a-z0-9+.-]*://|mailto:)', '') -%}
    {%- set text = regexp_replace_all(text, '[/?#].*$', '') -%}
    {%- set text = regexp_replace_all(text, '^.*@', '') -%}
    {%- set text = regexp_replace_all(text, ':[0-9]*$', '') -%}
    nullif({{ regexp_match("trim(both '.' from " ~ text ~ ")", '^[^\\s.@:]+(\\.[^\\s.@:]+)+$') }}, '')
{%- endmacro %}

{#- Registered domains for the distinct hosts in column `host_column` of `relation` (a CTE
    name): the longest matching public suffix plus one label, following the Public Suffix
    List algorithm (wildcard rules such as *.ck, exception rules such as !www.ck, and the
    implicit "*" rule for unknown top-level domains). Returns (host, registered_domain);
    registered_domain is null when the host is itself a public suffix.
    "www.shop.foo.co.uk" -> "foo.co.uk"; "a.b.example.com" -> "example.com". -#}
{% macro registered_domain_lookup(relation, host_column) -%}
    with distinct_hosts as (
        select distinct {{ host_column }} as host
        from {{ relation }}
        where {{ host_column }} is not null
    ),

    labelled as (
        select
            host,
            {{ split_to_list('host', '.') }} as labels,
            {{ list_length(split_to_list('host', '.')) }} as label_count
        from distinct_hosts
    ),

    suffix_lengths as (
        select
            host,
            labels,
            label_count,
            {{ unnest_series(1, 'label_count') }} as suffix_length
        from labelled
    ),

    candidates as (
        -- each host's trailing 1..n labels, exactly and as a wildcard ("*.ck") candidate
        select
            host,
            suffix_length,
            {{ list_join(
                list_range('labels', 'label_count - suffix_length + 1', 'label_count'), "'.'"
            ) }} as candidate
        from suffix_lengths
        union all
        select
            host,
            suffix_length,
            '*.' || {{ list_join(
                list_range('labels', 'label_count - suffix_length + 2', 'label_count'), "'.'"
            ) }} as candidate
        from suffix_lengths
        where suffix_length >= 2
    ),

    public_suffixes as (
        select
            suffix,
            kind
        from {{ source('reference', 'public_suffixes') }}
        where not is_private or {{ var('include_private_suffixes', false) }}
    ),

    matched_rules as (
        select
            candidates.host,
            max(
                case when public_suffixes.kind = 'exception' then candidates.suffix_length - 1 end
            ) as exception_length,
            max(
                case when public_suffixes.kind <> 'exception' then candidates.suffix_length end
            ) as rule_length
        from candidates
        inner join public_suffixes
            on candidates.candidate = public_suffixes.suffix
        group by candidates.host
    ),

    resolved as (
        select
            labelled.host,
            labelled.labels,
            labelled.label_count,
            -- an exception rule beats every other rule; no rule at all means "*" (one label)
            coalesce(matched_rules.exception_length, matched_rules.rule_length, 1)
                as public_suffix_length
        from labelled
        left join matched_rules
            on labelled.host = matched_rules.host
    )

    select
        host,
        case
            when label_count > public_suffix_length
                then {{ list_join(
                    list_range('labels', 'label_count - public_suffix_length', 'label_count'), "'.'"
                ) }}
        end as registered_domain
    from resolved
{%- endmacro %}

{#- A subdivision code when the text is one ("US-CA" -> "CA", "ny" -> "NY"), else null;
    used when the name lookup finds nothing, e.g. for a record without a country. -#}
{% macro state_code_fallback(column) -%}
    case
        when {{ regexp_matches_whole('upper(trim(' ~ column ~ '))', '[A-Z]{2}-[A-Z0-9]{1,3}') }}
            then {{ dbt.split_part('upper(trim(' ~ column ~ '))', "'-'", 2) }}
        when {{ regexp_matches_whole('upper(trim(' ~ column ~ '))', '[A-Z0-9]{1,3}') }}
            then upper(trim({{ column }}))
    end
{%- endmacro %}


{#- The rows of `relation` with their ISO country code and subdivision (state) code: the
    country text looked up in reference.countries, the state text in reference.subdivisions
    of that country, else read as a code (state_code_fallback). `relation` needs the
    columns country and state. Accounts and leads resolve their geography with this. -#}
{% macro resolve_geography(relation) -%}
    select
        {{ relation }}.*,
        countries.country_code,
        coalesce(
            subdivisions.state_code,
            {{ state_code_fallback(relation ~ '.state') }}
        ) as state_code
    from {{ relation }}
    left join {{ source('reference', 'countries') }} as countries
        on {{ lookup_key(relation ~ '.country') }} = countries.lookup_key
    left join {{ source('reference', 'subdivisions') }} as subdivisions
        on
            countries.country_code = subdivisions.country_code
            and {{ lookup_key(relation ~ '.state') }} = subdivisions.lookup_key
{%- endmacro %}


{#- The CRM user columns as staging presents them, from a relation with the reps contract's
    columns (raw.reps, and the last good rows in raw.rep_roster). -#}
{% macro normalized_rep_columns() -%}
    trim(rep_id) as rep_id,
    trim(name) as rep_name,
    lower(trim(email)) as email,
    trim(role) as role,
    {{ lookup_key('role') }} as role_key,
    {{ clean_text('team') }} as team,
    {{ clean_text('segment') }} as segment,
    {{ clean_text('manager_id') }} as manager_id,
    capacity,
    coalesce(skills, {{ empty_string_list() }}) as skills,
    {{ clean_text('timezone') }} as timezone,
    {{ clean_text('working_hours') }} as working_hours,
    coalesce(is_active, true) as is_active,
    {{ clean_text('slack_user_id') }} as slack_user_id
{%- endmacro %}
