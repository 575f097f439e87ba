-- Territories where nobody takes new records on the as-of date: no members, or every member
-- unavailable (on leave, terminated, deactivated, moved to a role that carries no accounts,
-- or missing from HR). Every record the territory rule gives them goes to the overflow
-- queue until a member is added or returns. matched_records counts the records matching the
-- territory on their own attributes (what the overflow queue stands to get); members lists
-- each member as rep_id (availability). `switchboard report coverage` shows these rows; the
-- warn test warn_territories_without_available_member counts them.
{%- set member_label = "rep_id || ' (' || coalesce(rep_availability, 'unknown') || ')'" %}

with

territories as (
    select
        territory_id,
        territory_name,
        overflow_queue
    from {{ ref('stg_plan__territories') }}
),

staffing as (
    select
        territory_id,
        count(*) as member_count,
        bool_or(coalesce(rep_is_available, false)) as has_available_member,
        {{ ordered_string_agg(
            member_label, "', '", member_label
        ) }} as members
    from {{ ref('dim_territory_members') }}
    group by territory_id
),

own_matches as (
    select distinct
        territory_id,
        record_type,
        record_id
    from {{ ref('fct_territory_matches') }}
    where match_source = 'record'
),

matched as (
    select
        territory_id,
        count(*) as matched_records
    from own_matches
    group by territory_id
)

select
    territories.territory_id,
    territories.territory_name,
    territories.overflow_queue,
    coalesce(matched.matched_records, 0) as matched_records,
    coalesce(staffing.member_count, 0) as member_count,
    staffing.members
from territories
left join staffing
    on territories.territory_id = staffing.territory_id
left join matched
    on territories.territory_id = matched.territory_id
where not coalesce(staffing.has_available_member, false)
