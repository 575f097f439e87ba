-- Territory coverage warning: territories nobody available works (fct_unstaffed_territories).
{{ config(severity='warn') }}
select * from {{ ref('fct_unstaffed_territories') }}
