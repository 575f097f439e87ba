"""routing.yml: the rule hierarchy, thresholds, weights and queues, as typed settings."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard import ENGINE_VERSION

RuleName = Literal[
    "open_opportunity",
    "named_account",
    "account_owner",
    "territory",
    "overflow_queue",
    "fallback_queue",
]
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "routing.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    name: RuleName
    enabled: bool = True


class WorkloadWeights(_Strict):
    active_accounts: float = 1.0
    pipeline_accounts: float = 0.5
    inbound_last_7d: float = 0.25
    activity_density: float = 0.0


class Workload(_Strict):
    weights: WorkloadWeights = WorkloadWeights()
    default_capacity: int = Field(200, gt=0)
    high_water: float = Field(100.0, gt=0)
    release: float = Field(95.0, gt=0)

    @model_validator(mode="after")
    def _release_below_high_water(self) -> Workload:
        if self.release > self.high_water:
            raise ValueError("workload.release must not exceed workload.high_water")
        return self


class Queues(_Strict):
    fallback: str = "fallback-queue"
    overflow: str = "overflow:{territory_id}"
    territory_pool: str = "pool:{territory_id}"


class Redistribution(_Strict):
    manager_review_open_pipeline: bool = True
    pool_tiers: list[int] = [3]


class Alerts(_Strict):
    unowned_hours: float = 24
    overload_days: int = 21
    # A webhook message still undelivered after this long raises delivery_failed, which goes
    # to the files sink: the webhook is the sink that is failing.
    pending_hours: float = Field(4, gt=0)
    # Who receives alerts that have no natural owner (rule gaps, guards, orphaned records).
    revops_recipient: str = "revops"


ROW_DROP_ENTITIES = ("accounts", "reps", "hr", "territories", "territory_members")


class Guards(_Strict):
    # The share of reps with a book that may turn invalid or held since the last published
    # run, and the fewest such reps that trip it (a team of 9 may lose two reps in a week).
    max_invalid_rep_share: float = Field(0.2, ge=0, le=1)
    min_invalid_reps: int = Field(3, ge=1)
    # The share of owned accounts one run may move, and the fewest moved accounts that trip
    # it: below 10 a move is one small book, quickly checked; with a 30% share the floor
    # changes nothing from 30 owned accounts up.
    max_reassign_share: float = Field(0.3, ge=0, le=1)
    min_reassignments: int = Field(10, ge=1)
    # Per entity, the largest share of rows an export may lose against the last loaded
    # export, and the fewest lost rows that trip it (a team of 9 may lose one rep row).
    max_row_drop: dict[str, float] = Field(
        default_factory=lambda: dict.fromkeys(ROW_DROP_ENTITIES, 0.1)
    )
    min_row_drop: int = Field(3, ge=1)

    @field_validator("max_row_drop")
    @classmethod
    def _shares(cls, limits: dict[str, float]) -> dict[str, float]:
        bad = {entity: share for entity, share in limits.items() if not 0 <= share <= 1}
        if bad:
            raise ValueError(f"guards.max_row_drop: shares must be between 0 and 1: {bad}")
        return limits


class Evidence(_Strict):
    # A rep missing from the HR (or reps) export this many consecutive exports has left;
    # fewer, and the rep keeps the book and receives nothing new (a rep_data_problem alert).
    missing_exports: int = Field(2, ge=1)


class Webhook(_Strict):
    url: str | None = None
    timeout_seconds: float = 5
    max_attempts: int = Field(4, ge=1)
    backoff_seconds: float = 0.5


class Sinks(_Strict):
    files: bool = True
    webhook: Webhook = Webhook()


OwnerProblem = Literal[
    "unowned", "unknown_owner", "terminated", "deactivated", "role_change", "outside_territory"
]

DEFAULT_RULES = [
    Rule.model_validate({"name": n})
    for n in (
        "open_opportunity",
        "named_account",
        "account_owner",
        "territory",
        "overflow_queue",
        "fallback_queue",
    )
]


class RoutingConfig(_Strict):
    rules: list[Rule] = DEFAULT_RULES
    territory_tiebreak: list[
        Literal["opportunity_territory", "priority", "specificity", "territory_id"]
    ] = ["opportunity_territory", "priority", "specificity", "territory_id"]
    carrying_roles: list[str] = ["AE", "Account Executive", "AM", "Account Manager", "SDR", "BDR"]
    workload: Workload = Workload()
    queues: Queues = Queues()
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
    sinks: Sinks = Sinks()
    # Hash of the source text + engine version; set by load_config.
    rules_version: str = "unversioned"

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
        }


class ConfigError(ValueError):
    """routing.yml cannot be read or does not validate."""


def load_config(path: Path | str | None = None) -> RoutingConfig:
    """Read routing.yml (the shipped one by default) and stamp its rules_version."""
    source = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = source.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {source}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config {source}: expected a mapping at the top level")
    digest = hashlib.sha256(text.encode() + f"|engine={ENGINE_VERSION}".encode()).hexdigest()
    data["rules_version"] = digest[:12]
    try:
        return RoutingConfig.model_validate(data)
    except ValueError as exc:
        raise ConfigError(f"config {source}: {exc}") from exc
