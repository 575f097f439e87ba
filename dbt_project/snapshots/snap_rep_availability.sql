{% snapshot snap_rep_availability %}
    {#- Availability history of every rep (SCD type 2), stamped with the run's as-of timestamp:
        when a rep was first seen deactivated, terminated, on leave or out of a carrying role.
        fct_ownership_gaps dates gaps from it when HR gives no date. -#}
    {{
        config(
            unique_key='rep_id',
            strategy='check',
            check_cols=['availability'],
            updated_at='availability_observed_at',
            hard_deletes='invalidate'
        )
    }}

    select
        rep_id,
        availability,
        is_valid_owner,
        {{ as_of_timestamp() }} as availability_observed_at
    from {{ ref('int_reps_joined_to_hr') }}
{% endsnapshot %}
