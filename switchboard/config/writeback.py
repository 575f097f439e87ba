"""routing.yml `writeback:`: the id, owner and audit columns of the write-back files."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from switchboard.config.base import _Strict

# The decision fields a write-back file's audit columns may carry.
WritebackField = Literal[
    "previous_owner_id",
    "queue",
    "rule",
    "territory_id",
    "rationale",
    "decided_at",
    "run_id",
    "rules_version",
]


AUDIT_COLUMNS: dict[str, WritebackField] = {
    "Previous_Owner__c": "previous_owner_id",
    "Routing_Rule__c": "rule",
    "Routing_Rationale__c": "rationale",
    "Routed_At__c": "decided_at",
}


class Writeback(_Strict):
    """outbox/<run_id>/Account.csv and Lead.csv: the id and owner columns, then audit
    columns (CRM field name -> decision field), in this order."""

    id_column: str = "Id"
    owner_column: str = "OwnerId"
    columns: dict[str, WritebackField] = Field(default_factory=lambda: dict(AUDIT_COLUMNS))

    @model_validator(mode="after")
    def _distinct_names(self) -> Writeback:
        names = [self.id_column, self.owner_column, *self.columns]
        if any(not name.strip() for name in names):
            raise ValueError("columns: a column name is empty")
        folded = [name.strip().lower() for name in names]
        twice = sorted({name for name in names if folded.count(name.strip().lower()) > 1})
        if twice:
            raise ValueError(
                f"columns: {', '.join(f'`{n}`' for n in twice)} would name two "
                f"columns (the files start with {self.id_column} and "
                f"{self.owner_column}; case is ignored)"
            )
        return self
