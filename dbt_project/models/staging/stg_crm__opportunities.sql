-- CRM opportunities, with is_open (not closed) for pipeline checks.
with

source as (
    select * from {{ source('crm', 'opportunities') }}
)

select
    trim(opportunity_id) as opportunity_id,
    trim(account_id) as account_id,
    trim(owner_id) as owner_id,
    trim(stage) as stage,
    is_closed,
    not is_closed as is_open,
    amount,
    created_at,
    closed_at,
    _row_number
from source
