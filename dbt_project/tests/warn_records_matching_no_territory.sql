-- Territory coverage warning: records no territory matches that need an owner
-- (fct_territory_coverage_gaps); counts those records.
{{ config(severity='warn', fail_calc='coalesce(sum(needing_owner), 0)') }}
select * from {{ ref('fct_territory_coverage_gaps') }}
where needing_owner > 0
