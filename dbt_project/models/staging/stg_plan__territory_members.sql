-- Territory membership; weight defaults to 1 and is_primary to false.
with

source as (
    select * from {{ source('plan', 'territory_members') }}
)

select
    trim(territory_id) as territory_id,
    trim(rep_id) as rep_id,
    coalesce(weight, 1.0) as weight,
    coalesce(is_primary, false) as is_primary,
    _row_number
from source
