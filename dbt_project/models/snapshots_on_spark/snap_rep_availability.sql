-- snap_rep_availability on the spark target, where snapshots are off
-- (docs/decisions/0025): its first version, what a first build's snapshot holds. Every
-- rep's availability, valid from the as-of timestamp and still current. The columns are
-- the snapshot's (snapshots/snap_rep_availability.sql) and dbt's SCD columns.
with

observed as (
    select
        rep_id,
        availability,
        is_valid_owner,
        {{ as_of_timestamp() }} as availability_observed_at
    from {{ ref('int_reps_joined_to_hr') }}
)

select
    rep_id,
    availability,
    is_valid_owner,
    availability_observed_at,
    {{ dbt.hash(dbt.concat([
        'rep_id', "'|'", 'cast(availability_observed_at as ' ~ dbt.type_string() ~ ')'
    ])) }} as dbt_scd_id,
    availability_observed_at as dbt_updated_at,
    availability_observed_at as dbt_valid_from,
    cast(null as timestamp) as dbt_valid_to
from observed
