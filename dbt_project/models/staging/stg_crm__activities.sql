-- Sales activities (calls, meetings, e-mails) on an account, a lead or both (ingest sets a
-- row with neither aside). Those on an account feed the workload's activity density; those
-- on a lead tell whether its owner touched it (int_lead_sla_clocks).
with

source as (
    select * from {{ source('crm', 'activities') }}
)

select
    {{ clean_text('account_id') }} as account_id,
    {{ clean_text('lead_id') }} as lead_id,
    trim(rep_id) as rep_id,
    occurred_at,
    lower({{ clean_text('type') }}) as activity_type,
    _row_number
from source
