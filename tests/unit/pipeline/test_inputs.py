"""Owners Switchboard published that the CRM export does not show yet: which they are is
int_pending_owners' (its dbt unit tests, dbt_project/models/intermediate/
_intermediate__models.yml); the route stage keeps them over the export's."""

from __future__ import annotations

import polars as pl

from switchboard.pipeline.inputs import with_pending_owners


def test_a_pending_owner_stands_until_the_crm_shows_another() -> None:
    pending = pl.DataFrame(
        {
            "record_type": ["account", "account", "account", "lead"],
            "record_id": ["A1", "A2", "A3", "A1"],
            "previous_owner_id": [None, "L", "L", None],
            "owner_id": ["R1", "R2", "R2", "R9"],
        }
    )
    accounts = pl.LazyFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "owner_id": [None, "L", "R3", None],  # A3: someone in the CRM chose R3 since
            "tier": [1, 2, 3, 4],
        }
    )
    out = with_pending_owners(accounts, pending, "account", "account_id").collect()
    assert out.columns == ["account_id", "owner_id", "tier"]
    assert out.rows() == [("A1", "R1", 1), ("A2", "R2", 2), ("A3", "R3", 3), ("A4", None, 4)]
