-- HR export, one row per employee e-mail (lower-cased). When an export repeats an e-mail in
-- different letter case, the most recently updated row wins.
with

source as (
    select * from {{ source('hr', 'hr') }}
),

ranked as (
    select
        lower(trim(email)) as email,
        lower(trim(status)) as status,
        status_start,
        status_end,
        {{ clean_text('role') }} as role,
        {{ lookup_key('role') }} as role_key,
        updated_at,
        _row_number,
        row_number() over (
            partition by lower(trim(email))
            order by updated_at desc nulls last, _row_number desc
        ) as email_rank
    from source
)

select
    email,
    status,
    status_start,
    status_end,
    role,
    role_key,
    updated_at,
    _row_number
from ranked
where email_rank = 1
