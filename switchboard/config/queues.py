"""routing.yml `queues:`: how the engine names its queues, and the CRM id each queue or pool
name stands for (with the check of Salesforce owner ids)."""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from switchboard.config.base import _Strict

# In a queue name (routing.yml `queues:`), the territory's id.
TERRITORY_ID = "{territory_id}"
# The CRM objects decisions are written back to (a decision's record_type).
ObjectType = Literal["account", "lead"]
OBJECT_TYPES: tuple[str, ...] = get_args(ObjectType)
# A Salesforce id: 15 or 18 letters and digits; the owners of records start with 00.
_SALESFORCE_ID = re.compile(r"00[0-9A-Za-z]{13}(?:[0-9A-Za-z]{3})?")
_SALESFORCE_KINDS = {
    "005": "user",
    "00G": "queue",
    "001": "Account",
    "00Q": "Lead",
    "003": "Contact",
    "006": "Opportunity",
    "00E": "role",
    "00e": "profile",
}
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _salesforce_suffix(id15: str) -> str:
    """The three characters an 18-character Salesforce id adds: the case of the 15."""
    return "".join(
        _SUFFIX_ALPHABET[sum(1 << i for i, c in enumerate(id15[k : k + 5]) if "A" <= c <= "Z")]
        for k in (0, 5, 10)
    )


def salesforce_id_problem(crm_id: str, object_type: str) -> str | None:
    """Why ``crm_id`` cannot own a record of ``object_type`` in Salesforce, for an id
    shaped like a Salesforce one (15 or 18 letters and digits starting with 00, not all
    digits); None for anything else (a HubSpot owner id, say), which is not checked."""
    if not _SALESFORCE_ID.fullmatch(crm_id) or crm_id.isdigit():
        return None
    if len(crm_id) == 18 and crm_id[15:] != _salesforce_suffix(crm_id[:15]):
        return (
            f"`{crm_id}` is not a valid 18-character Salesforce id: its last three "
            "characters do not match the first 15 (was its case changed?)"
        )
    kind = _SALESFORCE_KINDS.get(crm_id[:3], f"`{crm_id[:3]}`")
    if kind == "queue" and object_type == "account":
        return (
            f"`{crm_id}` is a Salesforce queue, and accounts cannot be owned by a queue: "
            "give the user (005…) who holds the queue's accounts"
        )
    if kind not in ("user", "queue"):
        owners = "a user (005…)" if object_type == "account" else "a user (005…) or queue (00G…)"
        return f"`{crm_id}` is a Salesforce {kind} id; an owner is {owners}"
    return None


class QueueIds(_Strict):
    """What a queue or pool the engine decides is in the CRM, per object type: the owner
    id its records get (a Salesforce lead queue 00G…, or a user who holds them: Salesforce
    accounts cannot be owned by a queue)."""

    account: str | None = None
    lead: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _by_object_type(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError(
                f"is `{value}`, not CRM ids by object type such as `{{lead: <id>, account: "
                "<id>}` (the other settings there are fallback, overflow and territory_pool)"
            )
        return value

    @field_validator("account", "lead", mode="before")
    @classmethod
    def _an_id(cls, value: object, info: ValidationInfo) -> str:
        # YAML reads a HubSpot owner id (12345678) as a number.
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"is empty: give the CRM id the queue's {info.field_name}s "
                "get as their owner, or leave the line out"
            )
        crm_id = value.strip()
        problem = salesforce_id_problem(crm_id, str(info.field_name))
        if problem:
            raise ValueError(problem)
        return crm_id


class Queues(BaseModel):
    """How the engine names its queues (templates), and what each queue or pool name is in
    the CRM (any other key: the name, as decisions carry it, to its QueueIds)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, QueueIds] = Field(init=False)

    fallback: str = "fallback-queue"
    overflow: str = "overflow:{territory_id}"
    territory_pool: str = "pool:{territory_id}"

    @field_validator("fallback", "overflow", "territory_pool", mode="before")
    @classmethod
    def _a_name(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, dict):
            raise ValueError(
                f"is how the engine names its {info.field_name} queues (a text such as "
                f"`{cls.model_fields[str(info.field_name)].default}`), not a queue; map "
                "the names it gives (such as `pool:T-NAE-MM`) to CRM ids"
            )
        return value

    @model_validator(mode="after")
    def _patterns(self) -> Queues:
        for name in self.crm_ids:
            rest = name.replace(TERRITORY_ID, "", 1)
            if "{" in rest or "}" in rest:
                raise ValueError(
                    f"queue name pattern `{name}`: a pattern holds {TERRITORY_ID} once "
                    "and no other braces, as in `pool:{territory_id}`"
                )
        return self

    @property
    def crm_ids(self) -> dict[str, QueueIds]:
        """Queue or pool name (or a name pattern with {territory_id}) -> its CRM ids."""
        return dict(self.model_extra or {})
