"""What each routing command runs (hourly, departure, arrivals, territory change, ingest),
as plain functions of a stage runner.

A Prefect flow (flows/) is one of these with its stages run as tasks
(flows.tasks.run_as_task); a one-shot command without a Prefect API calls the same
function with switchboard.stages.run_direct and never imports Prefect (about 1.5 s of a
fresh process). The parameters are the flows' parameters, so either can be called with
the same keywords.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from switchboard import stages
from switchboard import warehouse as wh
from switchboard.config import RoutingConfig, load_config
from switchboard.pipeline import make_context
from switchboard.pipeline.scratch import overlay_snapshot
from switchboard.pipeline.watch import snapshot_signature, wait_for_export, warm_up
from switchboard.plans import Mode
from switchboard.summary import RunSummary
from switchboard.warehouse import WarehouseLocked
from switchboard.whatif import WhatIf, whatif


def _summary(result: object) -> RunSummary:
    assert isinstance(result, RunSummary)
    return result


def _route(
    mode: Mode,
    snapshot: str | Path,
    warehouse: str,
    outbox: str,
    settings: RoutingConfig,
    as_of: str | None,
    accept_guards: list[str] | None,
    allow_backdated: bool,
    runner: stages.Runner,
    lock_wait_seconds: float,
    leaver_rep_ids: tuple[str, ...] = (),
    spark_home: str | None = None,
) -> RunSummary:
    """One routing run of `mode`'s plan through every stage (on Spark with `spark_home`)."""
    ctx = make_context(
        snapshot=snapshot,
        warehouse_path=warehouse,
        outbox=outbox,
        config=settings,
        as_of=as_of,
        mode=mode,
        accepted_guards=tuple(accept_guards or ()),
        leaver_rep_ids=leaver_rep_ids,
        allow_backdated=allow_backdated,
        spark_home=spark_home,
    )
    return _summary(stages.run(ctx, runner, lock_wait_seconds))


def hourly(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
    spark_home: str | None = None,
    *,
    runner: stages.Runner = stages.run_direct,
) -> RunSummary:
    """Route what needs an owner: new unowned records and the books of invalid owners.
    With ``spark_home``, on the Spark target (switchboard.spark.stages): the book's tables
    under that home, the ledger and the outbox in ``warehouse``."""
    return _route(
        "hourly",
        snapshot,
        warehouse,
        outbox,
        load_config(config, mapping),
        as_of,
        accept_guards,
        allow_backdated,
        runner,
        lock_wait_seconds,
        spark_home=spark_home,
    )


def departure(
    snapshot: str,
    rep: str,
    effective: str | None = None,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
    *,
    runner: stages.Runner = stages.run_direct,
) -> RunSummary:
    """A leaver's book now: pipeline accounts to manager review, pool tiers to the
    territory pool, the rest by territory. ``effective`` is the run's as-of."""
    return _route(
        "departure",
        snapshot,
        warehouse,
        outbox,
        load_config(config, mapping),
        effective,
        accept_guards,
        allow_backdated,
        runner,
        lock_wait_seconds,
        leaver_rep_ids=(rep,),
    )


def arrivals(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 30,
    watch_seconds: float = 0,
    poll_seconds: float = 0.5,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
    *,
    runner: stages.Runner = stages.run_direct,
    say: Callable[[str], object] = print,
    each_pass: Callable[[RunSummary], object] = lambda summary: None,
) -> RunSummary:
    """New accounts and leads only: one pass, then, for `watch_seconds`, another pass each
    time the snapshot folder changes (checked every `poll_seconds`). While watching, a pass
    that finds the warehouse held past `lock_wait_seconds` is skipped (`say` tells) and the
    next poll passes again; it fails only when every pass was skipped. `each_pass` sees
    every pass's summary; the last is returned."""
    if watch_seconds > 0 and as_of is not None:
        raise ValueError("watch_seconds needs the current time: leave as_of unset")
    until = time.monotonic() + watch_seconds
    warm_up()  # before the as-of is read: see switchboard.pipeline.watch.warm_up
    settings = load_config(config, mapping)
    result: RunSummary | None = None
    skipped: WarehouseLocked | None = None
    while True:
        seen = snapshot_signature(snapshot)
        try:
            result = _route(
                "arrivals",
                snapshot,
                warehouse,
                outbox,
                settings,
                as_of,
                accept_guards,
                allow_backdated,
                runner,
                lock_wait_seconds,
            )
            each_pass(result)
        except WarehouseLocked as busy:
            # The hourly run (or a departure) holds the warehouse. While watching, pass
            # again at the next poll: that pass takes this one's records.
            if watch_seconds <= 0:
                raise
            say(f"pass skipped: {busy}")
            skipped, seen = busy, ()
        if not wait_for_export(snapshot, seen, until, poll_seconds):
            if result is None:
                assert skipped is not None  # every pass was skipped
                raise skipped
            return result


def ingest(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    config: str | None = None,
    mapping: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    *,
    runner: stages.Runner = stages.run_direct,
) -> dict[str, dict[str, int]]:
    """Snapshot → raw.<entity> + raw.quarantine, checked, without routing; returns the
    input, loaded and quarantined counts per entity."""
    ctx = make_context(
        snapshot=snapshot,
        warehouse_path=warehouse,
        outbox="outbox",
        config=load_config(config, mapping),
        mode="hourly",
        accepted_guards=tuple(accept_guards or ()),
        dry_run=True,
    )
    with wh.run_lock(ctx.warehouse, wait_seconds=lock_wait_seconds):
        runner(stages.PREPARE, ctx)
        counts: dict[str, dict[str, int]] = runner(stages.INGEST, ctx)
        return counts


def territory_change(
    snapshot: str,
    territories: str,
    members: str | None = None,
    dry_run: bool = True,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
    whatif_dir: str = "whatif",
    *,
    runner: stages.Runner = stages.run_direct,
) -> RunSummary | WhatIf:
    """Re-evaluate every account under the new plan, including owners the plan leaves
    outside all their territories. With ``dry_run`` it is a what-if (switchboard.whatif):
    the new plan against the export's, both routed on a scratch copy of the warehouse
    under ``config``, the diff saved in ``whatif_dir/<id>/``, nothing published."""
    if dry_run:
        return whatif(
            snapshot,
            warehouse,
            config_path=config,
            current_config=config,
            mapping=mapping,
            territories=territories,
            members=members,
            as_of=as_of,
            allow_backdated=allow_backdated,
            runner=runner,
            out=whatif_dir,
        )
    replacements = {"territories": Path(territories)}
    if members:
        replacements["territory_members"] = Path(members)
    overlay = overlay_snapshot(Path(snapshot), replacements)
    try:
        return _route(
            "territory_change",
            overlay,
            warehouse,
            outbox,
            load_config(config, mapping),
            as_of,
            accept_guards,
            allow_backdated,
            runner,
            lock_wait_seconds,
        )
    finally:
        shutil.rmtree(overlay, ignore_errors=True)
