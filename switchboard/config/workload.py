"""routing.yml `workload:` and `redistribution:`: how the workload index is weighed, its
high-water and release thresholds, and how a leaver's book is redistributed."""

from __future__ import annotations

from pydantic import Field, model_validator

from switchboard.config.base import _Strict


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
            raise ValueError(
                f"release: must not exceed high_water ({self.release:g} > {self.high_water:g})"
            )
        return self


class Redistribution(_Strict):
    manager_review_open_pipeline: bool = True
    pool_tiers: list[int] = [3]
