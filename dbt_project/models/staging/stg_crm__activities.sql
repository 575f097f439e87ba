-- Sales activities (calls, meetings, e-mails) that feed the workload's activity density.
with

source as (
    select * from {{ source('crm', 'activities') }}
)

select
    trim(account_id) as account_id,
    trim(rep_id) as rep_id,
    occurred_at,
    lower({{ clean_text('type') }}) as activity_type,
    _row_number
from source
