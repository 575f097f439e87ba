-- The records an arrivals pass may decide: those in routing.arrival_scope (what its ingest
-- and earlier passes' found new and no run has decided yet), one row each. Leads whose
-- first-touch clock may have run out join them in the engine, when it finds the clock ran
-- out (int_arrival_records reads them too).
--
-- A view: the pass's ingest writes the scope just before the pass reads it.
{{ config(materialized='view') }}

select distinct
    record_type,
    record_id
from {{ ref('stg_routing__arrival_scope') }}
