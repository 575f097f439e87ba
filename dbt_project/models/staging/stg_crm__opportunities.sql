-- CRM opportunities, with is_open (not closed) for pipeline checks.
{{
    config(
        materialized=per_record_materialization(),
        pre_hook="{{ delete_changed('opportunities', 'opportunity_id') }}",
        incremental_strategy='delete+insert',
        unique_key='opportunity_id',
    )
}}

with

source as (
    select * from {{ source('crm', 'opportunities') }}
    where {{ per_record_scope('opportunities', 'opportunity_id') }}
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
