-- The named-account list: designated owners for accounts (and, through the hierarchy,
-- their subsidiaries).
with

source as (
    select * from {{ source('crm', 'named_accounts') }}
)

select
    trim(account_id) as account_id,
    trim(owner_id) as owner_id,
    tier,
    {{ clean_text('program') }} as program,
    _row_number
from source
