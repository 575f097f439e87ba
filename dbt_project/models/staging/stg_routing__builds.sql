-- The marts' last build (routing.builds, one row): when it finished, from which load and
-- under which settings. A view: switchboard.pipeline.marts records the build after dbt
-- returns, so a table here would always show the build before.
{{ config(materialized='view') }}

with

source as (
    select * from {{ source('routing', 'builds') }}
)

select
    build_key,
    built_at,
    raw_run_id,
    settings_key,
    build
from source
