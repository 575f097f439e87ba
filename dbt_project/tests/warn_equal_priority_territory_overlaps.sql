-- Territory coverage warning: territory pairs sharing accounts at the accounts' best
-- priority (fct_territory_overlaps); counts the accounts each pair shares.
{{ config(severity='warn', fail_calc='coalesce(sum(accounts), 0)') }}
select * from {{ ref('fct_territory_overlaps') }}
where accounts > 0
