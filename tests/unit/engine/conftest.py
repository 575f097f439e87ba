"""Small builders for hand-made orgs: a few reps, territories and records per test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from switchboard.config import RoutingConfig
from switchboard.engine import EngineInputs, EngineResult, route
from switchboard.engine.inputs import FRAME_COLUMNS, OPTIONAL_COLUMNS
from switchboard.plans import plan_for

AS_OF = datetime(2026, 11, 23, 9, 0)
T0 = AS_OF - timedelta(hours=1)

VALID = {"available": (True, True), "on_leave": (True, False), "data_problem": (True, False)}


@dataclass
class Org:
    """A tiny org; each method adds rows and returns self so tests read top-down."""

    reps: list[dict[str, Any]] = field(default_factory=list)
    workload: list[dict[str, Any]] = field(default_factory=list)
    state: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    territories: dict[str, dict[str, Any]] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    named: list[dict[str, Any]] = field(default_factory=list)
    round_robin: list[dict[str, Any]] = field(default_factory=list)
    clocks: list[dict[str, Any]] = field(default_factory=list)

    def rep(
        self,
        rep_id: str,
        name: str | None = None,
        *,
        availability: str = "available",
        index: float = 0.0,
        capacity: float = 100.0,
        overflowing: bool | None = None,
        rr: int | None = None,
        skills: list[str] | None = None,
        timezone: str | None = None,
        hours: str | None = None,
    ) -> Org:
        valid, available = VALID.get(availability, (False, False))
        self.reps.append(
            {
                "skills": skills,
                "timezone": timezone,
                "working_hours": hours,
                "rep_id": rep_id,
                "rep_name": name or rep_id,
                "availability": availability,
                "is_available": available,
                "is_valid_owner": valid,
                "manager_id": "MGR",
                # dim_reps says what is wrong with a held (data_problem) rep's row
                "data_problem_column": None,
                "data_problem_value": None,
                "data_problem": None,
            }
        )
        self.workload.append({"rep_id": rep_id, "workload_index": index, "capacity": capacity})
        if overflowing is not None or rr is not None:
            self.state.append(
                {"rep_id": rep_id, "is_overflowing": bool(overflowing), "rr_position": rr or 0}
            )
        return self

    def territory(
        self,
        territory_id: str,
        members: list[str] | dict[str, float] = (),  # type: ignore[assignment]
        *,
        name: str | None = None,
        priority: int = 10,
        specificity: int = 1,
        queue: str | None = None,
        method: str | None = None,
    ) -> Org:
        self.territories[territory_id] = {
            "territory_name": name or territory_id,
            "priority": priority,
            "specificity": specificity,
            "overflow_queue": queue,
        }
        weights = members if isinstance(members, dict) else dict.fromkeys(members, 1.0)
        for rep_id, weight in weights.items():
            self.members.append(
                {
                    "territory_id": territory_id,
                    "rep_id": rep_id,
                    "weight": weight,
                    "territory_method": method,
                }
            )
        return self

    def _match(self, record_type: str, record_id: str, territory_id: str, source: str) -> None:
        self.matches.append(
            {
                "record_type": record_type,
                "record_id": record_id,
                "territory_id": territory_id,
                "match_source": source,
            }
        )

    def account(
        self,
        account_id: str,
        owner: str | None = None,
        *,
        territories: tuple[str, ...] | list[str] = (),
        tier: int | None = None,
        parent: str | None = None,
        ultimate: str | None = None,
        created_at: datetime | None = None,
        name: str | None = None,
    ) -> Org:
        self.accounts.append(
            {
                "account_id": account_id,
                "account_name": name or account_id,
                "owner_id": owner,
                "parent_account_id": parent,
                "ultimate_parent_account_id": ultimate or parent,
                "tier": tier,
                "created_at": created_at or T0 + timedelta(seconds=len(self.accounts)),
            }
        )
        for territory_id in territories:
            self._match("account", account_id, territory_id, "record")
        return self

    def lead(
        self,
        lead_id: str,
        owner: str | None = None,
        *,
        account: str | None = None,
        territories: tuple[str, ...] | list[str] = (),
        account_territories: tuple[str, ...] | list[str] = (),
        created_at: datetime | None = None,
        method: str = "domain",
        skills: list[str] | None = None,
    ) -> Org:
        self.leads.append(
            {
                "required_skills": skills,
                "lead_id": lead_id,
                "owner_id": owner,
                "matched_account_id": account,
                "match_method": method if account else None,
                "created_at": created_at or T0 + timedelta(seconds=len(self.leads)),
            }
        )
        for territory_id in territories:
            self._match("lead", lead_id, territory_id, "record")
        for territory_id in account_territories:
            self._match("lead", lead_id, territory_id, "account")
        return self

    def opportunity(
        self, opportunity_id: str, account_id: str, owner: str, amount: float = 10_000.0
    ) -> Org:
        self.opportunities.append(
            {
                "opportunity_id": opportunity_id,
                "account_id": account_id,
                "owner_id": owner,
                "stage": "Proposal",
                "amount": amount,
                "created_at": T0 - timedelta(days=len(self.opportunities) + 1),
            }
        )
        return self

    def clock(
        self,
        lead_id: str,
        owner: str,
        territory_id: str,
        started: datetime,
        *,
        reroutes: int = 0,
        held_by: list[str] | None = None,
        touched: datetime | None = None,
        source: str | None = "Web",
    ) -> Org:
        """A first-touch clock (int_lead_sla_clocks): the lead's latest decision gave it
        to ``owner`` through ``territory_id`` at ``started``."""
        self.clocks.append(
            {
                "lead_id": lead_id,
                "owner_id": owner,
                "territory_id": territory_id,
                "clock_started_at": started,
                "reroutes": reroutes,
                "held_by": held_by if held_by is not None else [owner],
                "first_touch_at": touched,
                "source": source,
            }
        )
        return self

    def name(self, account_id: str, owner: str) -> Org:
        self.named.append({"account_id": account_id, "owner_id": owner})
        return self

    def with_state(self, rep_state: pl.DataFrame) -> Org:
        """Carry a previous run's rep_state into this org."""
        self.state = rep_state.select("rep_id", "is_overflowing", "rr_position").to_dicts()
        return self

    def with_rotation(self, round_robin: pl.DataFrame) -> Org:
        """Carry a previous run's routing.round_robin into this org."""
        self.round_robin = round_robin.select("territory_id", "cycle_key", "position").to_dicts()
        return self

    def set_index(self, rep_id: str, index: float) -> Org:
        for row in self.workload:
            if row["rep_id"] == rep_id:
                row["workload_index"] = index
        return self

    def frames(self) -> dict[str, pl.DataFrame]:
        def frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
            schema = {**FRAME_COLUMNS[name], **OPTIONAL_COLUMNS.get(name, {})}
            for row in rows:
                for key in row:
                    schema.setdefault(key, pl.String())
            return pl.DataFrame(rows, schema=schema)

        matches = [{**m, **self.territories[m["territory_id"]]} for m in self.matches]
        return {
            "accounts": frame("accounts", self.accounts),
            "leads": frame("leads", self.leads),
            "opportunities": frame("opportunities", self.opportunities),
            "named_accounts": frame("named_accounts", self.named),
            "reps": frame("reps", self.reps),
            "territory_matches": frame("territory_matches", matches),
            "territory_members": frame("territory_members", self.members),
            "workload": frame("workload", self.workload),
            "rep_state": frame("rep_state", self.state),
            "round_robin": frame("round_robin", self.round_robin),
            "sla_clocks": frame("sla_clocks", self.clocks),
        }

    def inputs(self) -> EngineInputs:
        return EngineInputs.from_frames(self.frames())

    def route(
        self,
        config: RoutingConfig | None = None,
        *,
        mode: str = "hourly",
        leavers: tuple[str, ...] = (),
        run_id: str = "run-1",
        as_of: datetime = AS_OF,
    ) -> EngineResult:
        return route(
            self.inputs(),
            config or RoutingConfig(),
            run_id=run_id,
            as_of=as_of,
            selection=plan_for(mode).selection,
            leaver_rep_ids=leavers,
        )


def decision(result: EngineResult, record_id: str) -> dict[str, Any]:
    """The single decision row of a record (fails if there is none or several)."""
    rows = result.decisions.filter(pl.col("record_id") == record_id).to_dicts()
    assert len(rows) == 1, f"expected one decision for {record_id}, got {len(rows)}"
    return rows[0]


def owners(result: EngineResult) -> dict[str, str | None]:
    return dict(zip(result.decisions["record_id"], result.decisions["owner_id"], strict=True))


def config_with(**changes: Any) -> RoutingConfig:
    """The default config with top-level keys replaced (validated like routing.yml)."""
    data = RoutingConfig().model_dump()
    data.update(changes)
    return RoutingConfig.model_validate(data)


@pytest.fixture
def org() -> Org:
    return Org()
