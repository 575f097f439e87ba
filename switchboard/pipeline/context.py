"""A run's identity and settings (RunContext): its as-of, fingerprint, run_id and build
key, made and checked before anything starts; and the warehouse connection every stage
opens for itself."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from switchboard import __version__, asof, preflight, publish, warehouse
from switchboard.config import RoutingConfig
from switchboard.guards import GUARD_NAMES
from switchboard.plans import Mode, Plan, plan_for

utc_now = asof.utc_now


def parse_as_of(value: str | datetime | None, option: str = "--as-of") -> datetime:
    """ISO 8601 (no offset = UTC) or None for now; returned naive UTC. Anything else raises
    asof.AsOfError naming ``option``."""
    if value is None:
        return utc_now()
    return asof.parse_time(value, option)


@dataclass(frozen=True)
class RunContext:
    snapshot: Path
    warehouse: Path
    outbox: Path
    config: RoutingConfig
    as_of: datetime
    mode: Mode = "hourly"
    leaver_rep_ids: tuple[str, ...] = ()
    dry_run: bool = False
    fingerprint: str = ""
    build_key: str = ""
    run_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Arrivals passes (set by prepare): `arrivals_since` is the watermark (None: no run was
    # published yet, so the pass routes every record); the pass routes the records its
    # ingest finds new (routing.arrival_scope). `incremental`: the marts of this day and
    # these settings exist, so only the new records are ingested and transformed.
    arrivals_since: datetime | None = None
    incremental: bool = False
    # Guards the user accepted for this run (--accept-guard), logged in routing.runs.
    accepted_guards: tuple[str, ...] = ()
    # The as-of may lie more than a day ahead of the clock or before the export (a
    # deliberate replay); see switchboard.asof.
    allow_backdated: bool = False
    # The Spark target (switchboard.spark.stages): the home of its tables; None, DuckDB.
    # The warehouse file then keeps the run ledger and the outbox only.
    spark_home: Path | None = None

    @property
    def plan(self) -> Plan:
        return plan_for(self.mode)


def make_context(
    *,
    snapshot: Path | str,
    warehouse_path: Path | str,
    outbox: Path | str,
    config: RoutingConfig,
    as_of: str | datetime | None = None,
    mode: Mode = "hourly",
    leaver_rep_ids: tuple[str, ...] = (),
    dry_run: bool = False,
    accepted_guards: Sequence[str] = (),
    allow_backdated: bool = False,
    spark_home: Path | str | None = None,
) -> RunContext:
    """The run's identity and settings. An as-of more than a day ahead of the clock stops
    the run here, before anything starts, unless ``allow_backdated`` (see switchboard.asof;
    whether the export agrees with the as-of is checked after ingest). ``spark_home``
    runs it on the Spark target (switchboard.spark.stages): an hourly run only."""
    if spark_home is not None and (mode != "hourly" or dry_run):
        what = "a dry run" if dry_run else mode
        raise ValueError(
            f"--spark-home: only the hourly run runs on Spark, not {what} (it rebuilds "
            "every model; the other runs reuse or increment the day's marts)"
        )
    unknown = sorted(set(accepted_guards) - set(GUARD_NAMES))
    if unknown:
        raise ValueError(
            f"--accept-guard: no guard named {', '.join(unknown)}; "
            f"the guards are {', '.join(GUARD_NAMES)}"
        )
    snapshot = Path(snapshot)
    if not snapshot.is_dir():
        raise FileNotFoundError(f"snapshot {snapshot} is not a folder")
    when = parse_as_of(as_of, as_of_option(mode))
    if as_of is not None and not allow_backdated:
        asof.check_not_future(when, option=as_of_option(mode))
    # A run that decides the leavers' books needs leavers the export lists (a typo is not a
    # no-op).
    if plan_for(mode).selection.leavers_only:
        preflight.check_leavers(snapshot, leaver_rep_ids, mapping=config.mapping)
    snapshot_fp = publish.fingerprint(snapshot)
    fp = hashlib.sha256(
        "|".join(
            [
                snapshot_fp,
                mode,
                ",".join(sorted(leaver_rep_ids)),
                config.rules_version,
                __version__,
                *(["spark"] if spark_home is not None else []),
            ]
        ).encode()
    ).hexdigest()
    # The marts depend on the snapshot, the settings and the as-of date, nothing else.
    build_key = f"{snapshot_fp}|{config.rules_version}|{when.date().isoformat()}|{__version__}"
    return RunContext(
        snapshot=snapshot,
        warehouse=Path(warehouse_path),
        outbox=Path(outbox),
        config=config,
        as_of=when,
        mode=mode,
        leaver_rep_ids=tuple(leaver_rep_ids),
        dry_run=dry_run,
        fingerprint=fp,
        run_id=run_id_for(when, mode, fp),
        build_key=build_key,
        accepted_guards=tuple(sorted(set(accepted_guards))),
        allow_backdated=allow_backdated,
        spark_home=Path(spark_home).resolve() if spark_home is not None else None,
    )


def as_of_option(mode: str) -> str:
    """The command-line option that carries a run's as-of, for messages."""
    return plan_for(mode).as_of_option


def run_id_for(when: datetime, mode: str, fp: str) -> str:
    """A run's id: its as-of, its mode and the start of its fingerprint."""
    return f"{when:%Y%m%dT%H%M%S}-{mode}-{fp[:8]}"


def build_settings(build_key: str) -> str:
    """The part of a build key that is not the snapshot: settings, day, version."""
    return build_key.partition("|")[2]


@contextmanager
def connection(ctx: RunContext) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's warehouse, opened for one stage and closed when it returns."""
    con = warehouse.connect(ctx.warehouse)
    try:
        yield con
    finally:
        con.close()
