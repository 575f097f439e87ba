-- CRM users who can own records. E-mail is lower-cased (the join key to HR); an empty
-- is_active means active.
with

source as (
    select * from {{ source('crm', 'reps') }}
)

select
    trim(rep_id) as rep_id,
    trim(name) as rep_name,
    lower(trim(email)) as email,
    trim(role) as role,
    {{ lookup_key('role') }} as role_key,
    {{ clean_text('team') }} as team,
    {{ clean_text('segment') }} as segment,
    {{ clean_text('manager_id') }} as manager_id,
    capacity,
    coalesce(skills, cast([] as varchar[])) as skills,
    coalesce(is_active, true) as is_active,
    _row_number
from source
