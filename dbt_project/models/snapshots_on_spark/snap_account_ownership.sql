-- snap_account_ownership on the spark target, where snapshots are off
-- (docs/decisions/0025): its first version, what a first build's snapshot holds. Every
-- account's current owner, valid from the as-of timestamp and still current. The columns
-- are the snapshot's (snapshots/snap_account_ownership.sql) and dbt's SCD columns.
with

observed as (
    select
        account_id,
        owner_id,
        {{ as_of_timestamp() }} as owner_observed_at
    from {{ ref('stg_crm__accounts') }}
)

select
    account_id,
    owner_id,
    owner_observed_at,
    {{ dbt.hash(dbt.concat([
        'account_id', "'|'", 'cast(owner_observed_at as ' ~ dbt.type_string() ~ ')'
    ])) }} as dbt_scd_id,
    owner_observed_at as dbt_updated_at,
    owner_observed_at as dbt_valid_from,
    cast(null as timestamp) as dbt_valid_to
from observed
