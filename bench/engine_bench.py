"""Time `switchboard.engine.route` on a synthetic book built in memory (no warehouse).

Default scenario: 1,000,000 accounts that need an owner (half unowned, half in the books
of departed reps, some with open pipeline or Tier 3), 200 territories, 1,000 reps
(5% on leave, 5% departed), every account matching one territory and 30% a second one,
a tenth of the reps shared by two territories. Prints the wall time of each run and
what the engine decided; asserts nothing.

    .venv/bin/python bench/engine_bench.py [--accounts N] [--leads N] [--repeat K]
        [--mode hourly|departure|territory_change] [--overlay R]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine import EngineInputs, route
from switchboard.plans import plan_for

AS_OF = datetime(2026, 11, 23, 9, 0)


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    return (prefix + pl.int_range(n, eager=True).cast(pl.String).str.zfill(width)).alias("id")


def _where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` where ``mask`` holds, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series()


def build(
    accounts: int, leads: int, territories: int, reps: int, *, seed: int, overlay: int = 0
) -> EngineInputs:
    """A synthetic org with numpy draws; every frame carries exactly the mart columns.

    ``overlay`` reps are members of every territory (the worst case for shared reps:
    every territory must wait for the previous one's use of their capacity).
    """
    rng = np.random.default_rng(seed)
    rep_ids = _ids("R", reps, 5)
    availability = rng.choice(
        np.array(["available", "on_leave", "terminated"]), size=reps, p=[0.9, 0.05, 0.05]
    )
    rep_frame = pl.DataFrame(
        {
            "rep_id": rep_ids,
            "rep_name": "Rep " + rep_ids,
            "availability": availability,
            "is_available": availability == "available",
            "is_valid_owner": availability != "terminated",
        }
    )
    workload = pl.DataFrame(
        {
            "rep_id": rep_ids,
            "workload_index": rng.uniform(20, 110, reps),
            "capacity": rng.integers(150, 400, reps).astype(float),
        }
    )
    territory_ids = _ids("T", territories, 4)
    territory_rep = np.arange(reps) % territories
    shared = rng.choice(reps, size=reps // 10, replace=False)
    members = pl.DataFrame(
        {
            "territory_id": pl.concat(
                [
                    territory_ids.gather(territory_rep),
                    territory_ids.gather(
                        (territory_rep[shared] + 1 + rng.integers(0, territories - 1, shared.size))
                        % territories
                    ),
                ]
            ),
            "rep_id": pl.concat([rep_ids, rep_ids.gather(shared)]),
            "weight": np.concatenate([np.ones(reps), rng.choice([1.0, 2.0], shared.size)]),
        }
    )
    if overlay:
        members = pl.concat(
            [
                members,
                pl.DataFrame(
                    {
                        "territory_id": pl.concat([territory_ids] * overlay),
                        "rep_id": rep_ids.head(overlay).gather(
                            np.repeat(np.arange(overlay), territories)
                        ),
                        "weight": np.ones(overlay * territories),
                    }
                ),
            ]
        ).unique(["territory_id", "rep_id"], keep="first", maintain_order=True)
    territory_attrs = pl.DataFrame(
        {
            "territory_id": territory_ids,
            "territory_name": "Territory " + territory_ids,
            "priority": rng.integers(1, 6, territories),
            "specificity": rng.integers(1, 5, territories),
            "overflow_queue": pl.Series([None] * territories, dtype=pl.String),
        }
    )
    terminated = rep_ids.filter(pl.Series(availability == "terminated"))
    account_ids = _ids("A", accounts, 8)
    owned = rng.random(accounts) < 0.5
    owners = _where(owned, terminated.gather(rng.integers(0, terminated.len(), accounts)))
    has_parent = rng.random(accounts) < 0.1
    parents = _where(has_parent, account_ids.gather(rng.integers(0, 10_000, accounts)))
    created = AS_OF - timedelta(days=30)
    account_frame = pl.DataFrame(
        {
            "account_id": account_ids,
            "account_name": "Account " + account_ids,
            "owner_id": owners,
            "parent_account_id": parents,
            "ultimate_parent_account_id": parents,
            "tier": rng.integers(1, 4, accounts),
            "created_at": pl.Series(
                rng.integers(0, 30 * 86_400, accounts) * 1_000_000, dtype=pl.Int64
            ).cast(pl.Duration("us"))
            + created,
        }
    )
    first = rng.integers(0, territories, accounts)
    second_mask = rng.random(accounts) < 0.3
    second = (first + 1 + rng.integers(0, territories - 1, accounts)) % territories
    account_matches = pl.DataFrame(
        {
            "record_type": "account",
            "record_id": pl.concat([account_ids, account_ids.filter(pl.Series(second_mask))]),
            "territory_id": territory_ids.gather(np.concatenate([first, second[second_mask]])),
            "match_source": "record",
        }
    )
    opp_accounts = account_ids.gather(rng.choice(accounts, accounts // 20, replace=False))
    opportunities = pl.DataFrame(
        {
            "opportunity_id": _ids("O", opp_accounts.len(), 8),
            "account_id": opp_accounts,
            "owner_id": rep_ids.gather(rng.integers(0, reps, opp_accounts.len())),
            "amount": rng.uniform(5_000, 500_000, opp_accounts.len()).round(0),
            "created_at": pl.Series([created] * opp_accounts.len()),
        }
    )
    named = pl.DataFrame(
        {
            "account_id": account_ids.gather(rng.choice(10_000, 1_000, replace=False)),
            "owner_id": rep_ids.gather(rng.integers(0, reps, 1_000)),
        }
    )
    lead_ids = _ids("L", leads, 8)
    lead_frame = pl.DataFrame(
        {
            "lead_id": lead_ids,
            "owner_id": pl.Series([None] * leads, dtype=pl.String),
            "matched_account_id": _where(
                rng.random(leads) < 0.3, account_ids.gather(rng.integers(0, accounts, leads))
            ),
            "match_method": "domain",
            "created_at": pl.Series([AS_OF - timedelta(hours=1)] * leads),
        }
    )
    lead_matches = pl.DataFrame(
        {
            "record_type": "lead",
            "record_id": lead_ids,
            "territory_id": territory_ids.gather(rng.integers(0, territories, leads)),
            "match_source": "record",
        }
    )
    matches = pl.concat([account_matches, lead_matches]).join(territory_attrs, on="territory_id")
    return EngineInputs.from_frames(
        {
            "accounts": account_frame,
            "leads": lead_frame,
            "opportunities": opportunities,
            "named_accounts": named,
            "reps": rep_frame,
            "territory_matches": matches,
            "territory_members": members,
            "workload": workload,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=0)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--reps", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--mode",
        choices=["hourly", "departure", "territory_change"],
        default="hourly",
        help="departure names every departed rep as a leaver",
    )
    parser.add_argument(
        "--overlay", type=int, default=0, help="reps that are members of every territory"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    inputs = build(
        args.accounts, args.leads, args.territories, args.reps, seed=args.seed, overlay=args.overlay
    )
    print(
        f"built synthetic org in {time.perf_counter() - started:.2f} s "
        f"({args.accounts:,} accounts, {args.leads:,} leads, {args.territories} territories, "
        f"{args.reps:,} reps, {args.overlay} in every territory)"
    )
    config = RoutingConfig()
    leavers = (
        inputs.reps.filter(pl.col("availability") == "terminated").collect()["rep_id"].to_list()
        if plan_for(args.mode).selection.leavers_only
        else []
    )
    timings = []
    for run in range(args.repeat):
        started = time.perf_counter()
        result = route(
            inputs,
            config,
            run_id=f"bench-{run}",
            as_of=AS_OF,
            selection=plan_for(args.mode).selection,
            leaver_rep_ids=leavers,
        )
        timings.append(time.perf_counter() - started)
        print(f"run {run + 1}: route() {timings[-1]:.2f} s")
    print(f"best of {args.repeat}: {min(timings):.2f} s")
    print(f"decisions: {result.decisions.height:,}; conflicts: {result.conflicts.height:,}")
    print(result.decisions.group_by("rule").len().sort("len", descending=True))


if __name__ == "__main__":
    main()
