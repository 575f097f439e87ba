-- dim_leads for an arrivals pass: the leads it reads (int_arrival_records), those in its
-- scope and those whose first-touch clock may have run out. A view: the records are the
-- pass's.
{{ config(materialized='view') }}

with

records as (
    select record_id as lead_id
    from {{ ref('int_arrival_records') }}
    where record_type = 'lead'
)

select leads.*
from {{ ref('dim_leads') }} as leads
where leads.lead_id in (select records.lead_id from records)
