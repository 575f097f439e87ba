{% snapshot snap_account_ownership %}
    {#- Ownership history (SCD type 2): a new version whenever an account's owner_id changes.
        Versions are stamped with the run's as-of timestamp, so "who owned account X on date
        D" is one query (docs/ANALYSTS.md). Accounts that leave the CRM export are closed. -#}
    {{
        config(
            unique_key='account_id',
            strategy='check',
            check_cols=['owner_id'],
            updated_at='owner_observed_at',
            hard_deletes='invalidate'
        )
    }}

    select
        account_id,
        owner_id,
        {{ as_of_timestamp() }} as owner_observed_at
    from {{ ref('stg_crm__accounts') }}
{% endsnapshot %}
