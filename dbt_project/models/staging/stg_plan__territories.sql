-- The territory plan with normalised criteria lists (never null; empty = matches everything):
-- countries as ISO alpha-2 codes, states as subdivision short codes (looked up within the
-- territory's countries when it has any), postal prefixes upper-case without spaces and
-- industries as lower-case keys. Entries that cannot be resolved are kept upper-cased, so a
-- typo narrows a territory instead of widening it, and are listed in unresolved_* columns.
with

source as (
    select * from {{ source('plan', 'territories') }}
),

countries as (
    select * from {{ source('reference', 'countries') }}
),

subdivisions as (
    select * from {{ source('reference', 'subdivisions') }}
),

territories as (
    select
        _row_number,
        trim(territory_id) as territory_id,
        trim(name) as territory_name,
        priority,
        {{ clean_text('segment') }} as segment,
        countries as countries_input,
        states as states_input,
        postal_prefixes as postal_prefixes_input,
        industries as industries_input,
        min_employees,
        max_employees,
        min_revenue,
        max_revenue,
        {{ clean_text('overflow_queue') }} as overflow_queue,
        coalesce(lower({{ clean_text('method') }}), 'workload') as method
    from source
),

country_items as (
    select
        territory_id,
        {{ unnest_list('countries_input') }} as country
    from territories
),

resolved_countries as (
    select
        country_items.territory_id,
        {{ sorted_distinct_list(
            'coalesce(countries.country_code, upper(trim(country_items.country)))'
        ) }} as country_codes,
        {{ sorted_distinct_list(
            'case when countries.country_code is null then trim(country_items.country) end'
        ) }} as unresolved_countries
    from country_items
    left join countries
        on {{ lookup_key('country_items.country') }} = countries.lookup_key
    where {{ clean_text('country_items.country') }} is not null
    group by country_items.territory_id
),

state_items as (
    select
        territories.territory_id,
        coalesce(resolved_countries.country_codes, {{ empty_string_list() }}) as country_codes,
        {{ unnest_list('territories.states_input') }} as state
    from territories
    left join resolved_countries
        on territories.territory_id = resolved_countries.territory_id
),

state_matches as (
    select
        state_items.territory_id,
        state_items.state,
        min(subdivisions.state_code) as state_code
    from state_items
    left join subdivisions
        on
            {{ lookup_key('state_items.state') }} = subdivisions.lookup_key
            and (
                {{ list_length('state_items.country_codes') }} = 0
                or {{ list_has('state_items.country_codes', 'subdivisions.country_code') }}
            )
    where {{ clean_text('state_items.state') }} is not null
    group by state_items.territory_id, state_items.state
),

resolved_states as (
    select
        territory_id,
        {{ sorted_distinct_list(
            'coalesce(state_code, ' ~ state_code_fallback('state') ~ ', upper(trim(state)))'
        ) }} as state_codes,
        {{ sorted_distinct_list(
            'case when state_code is null and ' ~ state_code_fallback('state')
            ~ ' is null then trim(state) end'
        ) }} as unresolved_states
    from state_matches
    group by territory_id
),

postal_items as (
    select
        territory_id,
        {{ unnest_list('postal_prefixes_input') }} as postal_prefix
    from territories
),

resolved_postal_prefixes as (
    select
        territory_id,
        {{ sorted_distinct_list(postal_key('postal_prefix')) }} as postal_prefixes
    from postal_items
    where {{ postal_key('postal_prefix') }} is not null
    group by territory_id
),

industry_items as (
    select
        territory_id,
        {{ unnest_list('industries_input') }} as industry
    from territories
),

resolved_industries as (
    select
        territory_id,
        {{ sorted_distinct_list('trim(industry)') }} as industries,
        {{ sorted_distinct_list('lower(trim(industry))') }} as industry_keys
    from industry_items
    where {{ clean_text('industry') }} is not null
    group by territory_id
),

assembled as (
    select
        territories.territory_id,
        territories.territory_name,
        territories.priority,
        territories.segment,
        coalesce(resolved_countries.country_codes, {{ empty_string_list() }}) as country_codes,
        coalesce(resolved_states.state_codes, {{ empty_string_list() }}) as state_codes,
        coalesce(
            resolved_postal_prefixes.postal_prefixes, {{ empty_string_list() }}
        ) as postal_prefixes,
        coalesce(resolved_industries.industries, {{ empty_string_list() }}) as industries,
        coalesce(resolved_industries.industry_keys, {{ empty_string_list() }}) as industry_keys,
        territories.min_employees,
        territories.max_employees,
        territories.min_revenue,
        territories.max_revenue,
        territories.overflow_queue,
        territories.method,
        coalesce(
            resolved_countries.unresolved_countries, {{ empty_string_list() }}
        ) as unresolved_countries,
        coalesce(resolved_states.unresolved_states, {{ empty_string_list() }}) as unresolved_states,
        territories._row_number
    from territories
    left join resolved_countries
        on territories.territory_id = resolved_countries.territory_id
    left join resolved_states
        on territories.territory_id = resolved_states.territory_id
    left join resolved_postal_prefixes
        on territories.territory_id = resolved_postal_prefixes.territory_id
    left join resolved_industries
        on territories.territory_id = resolved_industries.territory_id
)

select
    territory_id,
    territory_name,
    priority,
    segment,
    country_codes,
    state_codes,
    postal_prefixes,
    industries,
    industry_keys,
    min_employees,
    max_employees,
    min_revenue,
    max_revenue,
    overflow_queue,
    method,
    -- number of criteria that are set (bands count once each): the conflict tie-break
    -- prefers the most specific territory
    cast({{ list_length('country_codes') }} > 0 as integer)
    + cast({{ list_length('state_codes') }} > 0 as integer)
    + cast({{ list_length('postal_prefixes') }} > 0 as integer)
    + cast({{ list_length('industry_keys') }} > 0 as integer)
    + cast(min_employees is not null or max_employees is not null as integer)
    + cast(min_revenue is not null or max_revenue is not null as integer) as specificity,
    unresolved_countries,
    unresolved_states,
    _row_number
from assembled
