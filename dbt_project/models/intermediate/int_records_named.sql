-- Every account and lead in the CRM export with what analysts call it: one row per
-- (record_type, record_id), for the routing-log views to name the records they list.
-- A view: it feeds only views, and a table would copy the whole book every build.
{{ config(materialized='view') }}

select
    'account' as record_type,
    account_id as record_id,
    account_name as record_name,
    cast(null as {{ dbt.type_string() }}) as lead_source,
    created_at
from {{ ref('stg_crm__accounts') }}
union all
select
    'lead' as record_type,
    lead_id as record_id,
    email as record_name,
    source as lead_source,
    created_at
from {{ ref('stg_crm__leads') }}
