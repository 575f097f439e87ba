"""RoutingConfig: the whole of routing.yml, with the rule hierarchy it orders (`rules:`) and
the settings of every section; the dbt variables it hands the models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import field_validator, model_validator

from switchboard.config.base import _Strict
from switchboard.config.guards import Alerts, Evidence, Guards
from switchboard.config.queues import Queues
from switchboard.config.sinks import Messages, Sinks
from switchboard.config.sla import Sla
from switchboard.config.workload import Redistribution, Workload
from switchboard.config.writeback import Writeback
from switchboard.mapping import HeaderMapping
from switchboard.rules import ORDERED_RULES

# The rules routing.yml may order (switchboard.rules); a typo is a literal_error naming them.
if TYPE_CHECKING:
    RuleName = str
else:
    RuleName = Literal[ORDERED_RULES]


class Rule(_Strict):
    name: RuleName
    enabled: bool = True


OwnerProblem = Literal[
    "unowned", "unknown_owner", "terminated", "deactivated", "role_change", "outside_territory"
]

DEFAULT_RULES = [Rule.model_validate({"name": n}) for n in ORDERED_RULES]


class RoutingConfig(_Strict):
    rules: list[Rule] = DEFAULT_RULES
    territory_tiebreak: list[
        Literal["opportunity_territory", "priority", "specificity", "territory_id"]
    ] = ["opportunity_territory", "priority", "specificity", "territory_id"]
    carrying_roles: list[str] = ["AE", "Account Executive", "AM", "Account Manager", "SDR", "BDR"]
    workload: Workload = Workload()
    queues: Queues = Queues()
    writeback: Writeback = Writeback()
    redistribution: Redistribution = Redistribution()
    hourly_repairs: list[OwnerProblem] = [
        "unowned",
        "unknown_owner",
        "terminated",
        "deactivated",
        "role_change",
    ]
    alerts: Alerts = Alerts()
    guards: Guards = Guards()
    evidence: Evidence = Evidence()
    # First-touch SLA of inbound leads; absent (None): leads are never re-routed for it.
    sla: Sla | None = None
    sinks: Sinks = Sinks()
    messages: Messages = Messages()
    # How the export's headers and values map to the contracts: a preset name (hubspot,
    # salesforce-report), a file relative to routing.yml, or the mapping inline; set by
    # load_config (see switchboard.mapping).
    mapping: HeaderMapping | None = None
    # Hash of the source text + engine version; set by load_config.
    rules_version: str = "unversioned"

    @field_validator("sla", mode="before")
    @classmethod
    def _sla_settings(cls, value: object) -> object:
        if value is not None and not isinstance(value, dict | Sla):
            raise ValueError(
                f"is `{value}`, not settings such as `{{first_touch_minutes: 30, "
                "sources: [Web], max_reroutes: 2}`"
            )
        return value

    @model_validator(mode="after")
    def _fallback_last_and_on(self) -> RoutingConfig:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rules: each rule may appear once")
        if not names or names[-1] != "fallback_queue" or not self.rules[-1].enabled:
            raise ValueError("rules: fallback_queue must be the last rule and enabled")
        return self

    @property
    def enabled_rules(self) -> list[str]:
        return [r.name for r in self.rules if r.enabled]

    def dbt_vars(self) -> dict[str, object]:
        """The settings the dbt models read through `var()`."""
        w = self.workload
        return {
            "carrying_roles": [r.lower() for r in self.carrying_roles],
            "weight_active_accounts": w.weights.active_accounts,
            "weight_pipeline_accounts": w.weights.pipeline_accounts,
            "weight_inbound_last_7d": w.weights.inbound_last_7d,
            "weight_activity_density": w.weights.activity_density,
            "default_capacity": w.default_capacity,
            "high_water": w.high_water,
            "release": w.release,
            "missing_exports": self.evidence.missing_exports,
            "sla_first_touch_minutes": self.sla.first_touch_minutes if self.sla else None,
            "sla_sources": self.sla.source_keys if self.sla else [],
        }
