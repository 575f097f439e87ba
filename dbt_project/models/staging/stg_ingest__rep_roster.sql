-- What ingest remembers about each rep across exports (raw.rep_roster, written by
-- switchboard/roster.py): the last good reps row, what is wrong with the rep's reps or HR
-- row in this export, and how many consecutive exports have left the rep out.
with

source as (
    select * from {{ source('ingest', 'rep_roster') }}
)

select
    {{ normalized_rep_columns() }},
    reps_problem_column,
    reps_problem_value,
    reps_problem_reason,
    missing_reps_exports,
    hr_problem_column,
    hr_problem_value,
    hr_problem_reason,
    missing_hr_exports,
    last_hr_status,
    last_hr_status_start
from source
