-- CRM users who can own records. E-mail is lower-cased (the join key to HR); an empty
-- is_active means active.
with

source as (
    select * from {{ source('crm', 'reps') }}
)

select
    {{ normalized_rep_columns() }},
    _row_number
from source
