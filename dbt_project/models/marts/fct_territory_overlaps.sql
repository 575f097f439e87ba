-- Territory pairs overlapping at equal priority: both match a record on its own attributes
-- at the record's best (lowest) priority, so the engine settles the tie by specificity and
-- territory_id. One row per pair (territory_a < territory_b), with how many records
-- (accounts, leads) the pair shares. `switchboard report coverage` shows these rows; the
-- warn test warn_equal_priority_territory_overlaps counts their accounts.
with

own_matches as (
    select distinct
        record_type,
        record_id,
        territory_id,
        priority
    from {{ ref('fct_territory_matches') }}
    where match_source = 'record'
),

own_matches_with_best as (
    select
        record_type,
        record_id,
        territory_id,
        priority,
        min(priority) over (partition by record_type, record_id) as best_priority
    from own_matches
),

best_matches as (
    select
        record_type,
        record_id,
        territory_id,
        priority
    from own_matches_with_best
    where priority = best_priority
),

pairs as (
    select
        first_match.record_type,
        first_match.record_id,
        first_match.territory_id as territory_a,
        second_match.territory_id as territory_b,
        first_match.priority
    from best_matches as first_match
    inner join best_matches as second_match
        on
            first_match.record_type = second_match.record_type
            and first_match.record_id = second_match.record_id
            and first_match.territory_id < second_match.territory_id
),

territories as (
    select
        territory_id,
        territory_name
    from {{ ref('stg_plan__territories') }}
)

select
    pairs.territory_a,
    territories_a.territory_name as territory_a_name,
    pairs.territory_b,
    territories_b.territory_name as territory_b_name,
    cast(pairs.priority as bigint) as priority,
    count(*) as records,
    count(*) filter (where pairs.record_type = 'account') as accounts,
    count(*) filter (where pairs.record_type = 'lead') as leads
from pairs
left join territories as territories_a
    on pairs.territory_a = territories_a.territory_id
left join territories as territories_b
    on pairs.territory_b = territories_b.territory_id
group by
    pairs.territory_a,
    territories_a.territory_name,
    pairs.territory_b,
    territories_b.territory_name,
    pairs.priority
