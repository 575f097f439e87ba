"""The incremental build equals a full rebuild of the same inputs, on generated sequences of
exports: new, changed and deleted accounts, leads and opportunities (renamed, moved,
re-parented, re-hosted on another account's domain, orphaned; deals moved between
accounts), a leaver in HR, a rep deactivated in the CRM, and a territory plan change
(which forces a full build). After the first export an arrivals pass adds accounts and
leads: the models it updates must equal a full build of the same raw tables, and the
hourly runs after it build on what it left.

Two warehouses take the same sequence of hourly runs: one builds incrementally whenever
switchboard.changes allows it, the other always rebuilds in full. After every run their
staging, intermediate and mart tables and their decisions, conflicts and rep state must be
equal. Each sequence comes from a seed; CI runs SEQUENCES of them, and more can be run with
`SWITCHBOARD_PROPERTY_SEQUENCES=20 pytest tests/e2e/test_incremental_equals_full.py`.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard import changes, dbt, pipeline, stages
from switchboard.config import load_config
from switchboard.dbt import DbtResult
from switchboard.plans import Mode

from .conftest import AS_OF

pytestmark = pytest.mark.e2e

SEQUENCES = int(os.environ.get("SWITCHBOARD_PROPERTY_SEQUENCES", "1"))
STEPS = 3  # exports after the first
# Columns that say when something happened, not what: they differ between two runs of the
# same inputs. `_row_number` is where a record sat in the export that last changed it.
VOLATILE = ("_row_number", "decided_at", "latency_seconds", "updated_at")
ROUTING_TABLES = ("routing.decisions", "routing.conflicts", "routing.rep_state")
# What a build updates, not what it holds: empty in a full build.
BUILD_SCOPE = "intermediate.int_records_in_scope"


def _read(folder: Path, entity: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{entity}.csv", infer_schema=False)


def _write(frame: pl.DataFrame, folder: Path, entity: str) -> None:
    frame.write_csv(folder / f"{entity}.csv")


def _pick(rng: random.Random, frame: pl.DataFrame, share: float) -> pl.Series:
    """A random mask over `frame`'s rows: about `share` of them."""
    return pl.Series([rng.random() < share for _ in range(frame.height)])


def _next_export(
    previous: Path, folder: Path, rng: random.Random, step: int, plan_change: bool
) -> Path:
    """The export after `previous`: records added, edited and dropped at random."""
    shutil.copytree(previous, folder)
    accounts = _read(folder, "accounts")
    ids = accounts["account_id"].drop_nulls().to_list()
    renamed = _pick(rng, accounts, 0.03)
    moved = _pick(rng, accounts, 0.02)
    reparented = _pick(rng, accounts, 0.01)
    orphaned = _pick(rng, accounts, 0.01)
    # another account's domain: the leads matching either domain may change account
    rehosted = _pick(rng, accounts, 0.01)
    domains = accounts["domain"].drop_nulls().to_list()
    accounts = accounts.with_columns(
        name=pl.when(renamed).then(pl.col("name") + f" v{step}").otherwise("name"),
        country=pl.when(moved)
        .then(pl.lit(rng.choice(["DE", "US", "France", "JP"])))
        .otherwise("country"),
        state=pl.when(moved).then(pl.lit(None, pl.String)).otherwise("state"),
        parent_account_id=pl.when(reparented)
        .then(pl.lit(rng.choice(ids)))
        .otherwise("parent_account_id"),
        owner_id=pl.when(orphaned).then(pl.lit(None, pl.String)).otherwise("owner_id"),
        domain=pl.when(rehosted).then(pl.lit(rng.choice(domains))).otherwise("domain"),
    )
    template = accounts.sample(n=rng.randint(5, 25), seed=rng.randint(0, 10**6))
    new = template.with_columns(
        account_id=pl.format(f"ACC-S{step}-{{}}", pl.int_range(pl.len())),
        name=pl.format(f"Newco {step} {{}}", pl.int_range(pl.len())),
        domain=pl.format(f"newco{step}-{{}}.example", pl.int_range(pl.len())),
        owner_id=pl.lit(None, pl.String),
        created_at=pl.lit((AS_OF + timedelta(hours=step, minutes=-5)).isoformat()),
    )
    dropped = _pick(rng, accounts, 0.01)
    _write(pl.concat([accounts.filter(~dropped), new]), folder, "accounts")

    leads = _read(folder, "leads")
    edited = _pick(rng, leads, 0.03)
    leads = leads.with_columns(
        company=pl.when(edited).then(pl.col("company") + " Inc").otherwise("company")
    )
    arrivals = leads.sample(
        n=min(leads.height, rng.randint(3, 10)), seed=rng.randint(0, 10**6)
    ).with_columns(
        lead_id=pl.format(f"LEAD-S{step}-{{}}", pl.int_range(pl.len())),
        # the first leads of this export's new accounts, with the domain's casing varied
        email=pl.format(
            f"buyer{{}}@NEWCO{step}-{{}}.example",
            pl.int_range(pl.len()),
            pl.int_range(pl.len()) % max(new.height, 1),
        ),
        owner_id=pl.lit(None, pl.String),
        created_at=pl.lit((AS_OF + timedelta(hours=step, minutes=-4)).isoformat()),
    )
    _write(pl.concat([leads.filter(~_pick(rng, leads, 0.01)), arrivals]), folder, "leads")

    opportunities = _read(folder, "opportunities")
    closed = _pick(rng, opportunities, 0.03)
    moved_deals = _pick(rng, opportunities, 0.02)  # to another account: both accounts change
    opportunities = opportunities.with_columns(
        is_closed=pl.when(closed).then(pl.lit("true")).otherwise("is_closed"),
        account_id=pl.when(moved_deals).then(pl.lit(rng.choice(ids))).otherwise("account_id"),
    )
    _write(opportunities.filter(~_pick(rng, opportunities, 0.01)), folder, "opportunities")

    hr = _read(folder, "hr")
    active = hr.with_row_index().filter(pl.col("status") == "active")["index"].to_list()
    leaver = rng.choice(active)
    _write(
        hr.with_columns(
            status=pl.when(pl.int_range(pl.len()) == leaver)
            .then(pl.lit("terminated"))
            .otherwise("status"),
            status_start=pl.when(pl.int_range(pl.len()) == leaver)
            .then(pl.lit(AS_OF.date().isoformat()))
            .otherwise("status_start"),
        ),
        folder,
        "hr",
    )

    reps = _read(folder, "reps")  # a rep deactivated in the CRM, HR unchanged
    deactivated = rng.randrange(reps.height)
    _write(
        reps.with_columns(
            is_active=pl.when(pl.int_range(pl.len()) == deactivated)
            .then(pl.lit("false"))
            .otherwise("is_active")
        ),
        folder,
        "reps",
    )

    if plan_change:  # the first territory comes first now
        territories = _read(folder, "territories")
        first = pl.int_range(pl.len()) == 0
        _write(
            territories.with_columns(
                priority=pl.when(first).then(pl.lit("1")).otherwise("priority")
            ),
            folder,
            "territories",
        )
    return folder


ARRIVING_PARENT = "ACC-ARRIVING-PARENT"


def _first_export(org: Path, folder: Path) -> Path:
    """The org, with one account whose parent is not in the export yet (it arrives)."""
    shutil.copytree(org, folder)
    accounts = _read(folder, "accounts")
    child = pl.int_range(pl.len()) == 1
    _write(
        accounts.with_columns(
            parent_account_id=pl.when(child)
            .then(pl.lit(ARRIVING_PARENT))
            .otherwise("parent_account_id")
        ),
        folder,
        "accounts",
    )
    return folder


def _arrivals_export(previous: Path, folder: Path, rng: random.Random) -> Path:
    """`previous` plus new accounts and leads, as an arrivals pass finds them: the missing
    parent of an existing account, accounts on the e-mail domains of existing leads (which
    may now match them), and leads of the new accounts."""
    shutil.copytree(previous, folder)
    created = (AS_OF + timedelta(minutes=20)).isoformat()
    accounts = _read(folder, "accounts")
    leads = _read(folder, "leads")
    hosts = (
        leads["email"]
        .drop_nulls()
        .str.split("@")
        .list.last()
        .str.to_lowercase()
        .unique()
        .sort()
        .to_list()
    )
    template = accounts.sample(n=6, seed=rng.randint(0, 10**6))
    new = template.with_columns(
        account_id=pl.format("ACC-ARRIVED-{}", pl.int_range(pl.len())),
        name=pl.format("Arrived {}", pl.int_range(pl.len())),
        domain=pl.Series(rng.sample(hosts, 6)),
        parent_account_id=pl.lit(None, pl.String),
        owner_id=pl.lit(None, pl.String),
        created_at=pl.lit(created),
    )
    new = new.with_columns(
        account_id=pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(ARRIVING_PARENT))
        .otherwise("account_id")
    )
    _write(pl.concat([accounts, new]), folder, "accounts")
    arrived = leads.sample(n=4, seed=rng.randint(0, 10**6)).with_columns(
        lead_id=pl.format("LEAD-ARRIVED-{}", pl.int_range(pl.len())),
        email=pl.format("buyer{}@{}", pl.int_range(pl.len()), new["domain"].head(4)),
        owner_id=pl.lit(None, pl.String),
        created_at=pl.lit(created),
    )
    _write(pl.concat([leads, arrived]), folder, "leads")
    return folder


def _run(
    snapshot: Path, warehouse: Path, step: int, mode: Mode = "hourly", as_of: datetime | None = None
) -> None:
    ctx = pipeline.make_context(
        snapshot=snapshot,
        warehouse_path=warehouse,
        outbox=warehouse.parent / "outbox",
        config=load_config(),
        as_of=as_of or AS_OF + timedelta(hours=step),
        mode=mode,
    )
    summary = stages.run(ctx)
    assert summary.status == "published", summary


def _tables(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("""
            select table_schema || '.' || table_name from information_schema.tables
            where table_schema in ('staging', 'intermediate', 'marts')
              and table_type = 'BASE TABLE' and table_name not like 'snap\\_%' escape '\\'
            order by 1""").fetchall()
    finally:
        con.close()
    return [name for (name,) in rows if name != BUILD_SCOPE]


def _contents(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    columns = [
        row[0]
        for row in con.execute(f"describe {table}").fetchall()
        if row[0] not in VOLATILE and not row[0].startswith("dbt_")
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    return con.sql(f"select {listed} from {table} order by all").pl()


# The models an arrivals pass updates (dbt tag `arrivals`), but for the scope model.
ARRIVALS_MODELS = (
    "staging.stg_crm__accounts",
    "staging.stg_crm__leads",
    "intermediate.int_accounts_matched_to_territories",
    "intermediate.int_accounts_rolled_up_to_parents",
    "intermediate.int_leads_matched_to_accounts",
    "intermediate.int_leads_matched_to_territories",
    "marts.dim_accounts",
    "marts.dim_leads",
    "marts.fct_territory_matches",
)


def _assert_arrivals_equal_a_full_build(warehouse: Path, scratch: Path) -> None:
    """The models an arrivals pass updated hold what a full build of the same raw tables
    (at the last hourly run's as-of) writes."""
    rebuilt = scratch / warehouse.name
    scratch.mkdir(parents=True)
    shutil.copyfile(warehouse, rebuilt)
    dbt.build(rebuilt, AS_OF, load_config())  # models only: the test patches dbt.build
    left = duckdb.connect(str(warehouse), read_only=True)
    right = duckdb.connect(str(rebuilt), read_only=True)
    try:
        assert (
            left.execute("select count(*) from raw.changes where change = 'new'").fetchall()[0][0]
            >= 10
        )
        hierarchy = left.execute(
            "select ultimate_parent_account_id from marts.dim_accounts where parent_account_id = ?",
            [ARRIVING_PARENT],
        ).fetchall()
        assert hierarchy == [(ARRIVING_PARENT,)]  # the child found its arriving parent
        _assert_tables_equal(left, right, ARRIVALS_MODELS, "arrivals pass")
    finally:
        left.close()
        right.close()


def _assert_tables_equal(
    left: duckdb.DuckDBPyConnection,
    right: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    when: str,
) -> None:
    for table in tables:
        try:
            assert_frame_equal(_contents(left, table), _contents(right, table), check_exact=True)
        except AssertionError as differs:
            raise AssertionError(f"{when}, {table}: {differs}") from None


def _builds(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return str(con.execute("select build from routing.builds").fetchall()[0][0])
    finally:
        con.close()


def _without_data_tests(build: Callable[..., DbtResult]) -> Callable[..., DbtResult]:
    """dbt.build with the same models, seeds and snapshots but no data tests: the
    invariant is about what the build writes, and the tests cost most of a small build."""

    def models_only(*args: Any, selector: str | None = None, **kwargs: Any) -> DbtResult:
        return build(
            *args,
            select="resource_type:model resource_type:seed resource_type:snapshot",
            exclude="resource_type:test resource_type:unit_test",
            **kwargs,
        )

    return models_only


def _always_full(con: duckdb.DuckDBPyConnection, run_id: str, settings: str) -> tuple[bool, str]:
    return False, "this warehouse always rebuilds"


@pytest.mark.parametrize("seed", range(SEQUENCES))
def test_incremental_build_equals_full_rebuild(
    seed: int, org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbt, "build", _without_data_tests(dbt.build))
    rng = random.Random(seed)
    plan_step = rng.randint(1, STEPS)
    incremental, full = tmp_path / "inc" / "w.duckdb", tmp_path / "full" / "w.duckdb"
    export = _first_export(org, tmp_path / "export-0")
    kinds: list[str] = []
    for step in range(STEPS + 1):
        if step:
            export = _next_export(
                export, tmp_path / f"export-{step}", rng, step, plan_change=step == plan_step
            )
        _run(export, incremental, step)
        kinds.append(_builds(incremental))
        if step:
            with monkeypatch.context() as patch:
                patch.setattr(changes, "incremental_reason", _always_full)
                _run(export, full, step)
        else:  # the first export builds in full on both, then an arrivals pass runs
            shutil.copytree(incremental.parent, full.parent)
            export = _arrivals_export(export, tmp_path / "export-0-arrivals", rng)
            for warehouse in (incremental, full):
                _run(export, warehouse, step, "arrivals", AS_OF + timedelta(minutes=30))
            _assert_arrivals_equal_a_full_build(incremental, tmp_path / "rebuilt")
        tables = _tables(incremental)
        assert tables == _tables(full)
        assert len(tables) > 20
        left = duckdb.connect(str(incremental), read_only=True)
        right = duckdb.connect(str(full), read_only=True)
        try:
            _assert_tables_equal(left, right, (*tables, *ROUTING_TABLES), f"export {step}")
        finally:
            left.close()
            right.close()
    # The sequence exercised both paths: incremental hours, and a full build when the plan
    # changed (and on the first export).
    assert kinds[0].startswith("full")
    assert kinds[plan_step] == "full: territories changed"
    assert all(
        kind.startswith("incremental") for i, kind in enumerate(kinds) if i not in (0, plan_step)
    ), kinds
