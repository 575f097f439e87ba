"""Run the dbt project in-process.

`build()` runs `dbt build` (seeds, models, snapshots, data tests and unit tests) against a
warehouse file with the run's as-of timestamp and routing.yml's settings as dbt vars, and
raises `DbtBuildFailed` naming every failing node. It can be called repeatedly in one
process and leaves the DuckDB file closed when it returns; callers close their own
connection first (DuckDB allows one writer per file).

`build(..., target="spark")` builds the same project on Apache Spark instead (dbt-spark's
session method on switchboard.spark.session.local_session; docs/OPERATIONS.md "Past one
machine: the Spark target").

`python -m switchboard.dbt sources [--check]` regenerates (or checks) the raw-source
definitions, which switchboard.dbt_sources renders from the contracts.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchboard import resources
from switchboard.config import RoutingConfig
from switchboard.dbt_sources import SOURCES_FILE

# The dbt project as shipped, to read (switchboard/resources.py): the checkout's
# dbt_project/, or the installed package's bundled copy. dbt itself runs in, and writes
# to, `project_dir()`: the same folder in a checkout, a writable working copy installed.
PROJECT_DIR = resources.shipped_dbt_project()
SOURCES_PATH = PROJECT_DIR / SOURCES_FILE
WAREHOUSE_ENV = "SWITCHBOARD_WAREHOUSE"

# The source system each contract entity comes from; names the stg_<source>__<entity> models.
_FAILED_STATUSES = ("error", "fail", "runtime error")
# The outputs of dbt_project/profiles.yml: the DuckDB warehouse file (the default) and
# Apache Spark in this process.
LOCAL_TARGET = "local"
SPARK_TARGET = "spark"
TARGETS = (LOCAL_TARGET, SPARK_TARGET)
_INVOKE_LOCK = threading.Lock()


class DbtBuildFailed(RuntimeError):
    """A dbt invocation failed; `failures` holds the failing nodes (empty for setup errors)
    and `nodes` every node that ran, failing or not."""

    def __init__(
        self, message: str, failures: Sequence[NodeResult] = (), nodes: Sequence[NodeResult] = ()
    ) -> None:
        super().__init__(message)
        self.failures = tuple(failures)
        self.nodes = tuple(nodes) or self.failures


@dataclass(frozen=True)
class NodeResult:
    """The outcome of one dbt node (model, seed, snapshot, data test or unit test)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None
    failures: int | None
    execution_time: float

    @property
    def failed(self) -> bool:
        return self.status in _FAILED_STATUSES


@dataclass(frozen=True)
class DbtResult:
    """What a successful invocation did: every node's status, and where dbt wrote artefacts."""

    command: str
    nodes: tuple[NodeResult, ...]
    target_dir: Path
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.status == "warn")

    def status_of(self, name: str) -> str:
        """Status of the node with this name (e.g. "dim_reps"); KeyError if it did not run."""
        for node in self.nodes:
            if name in (node.name, node.unique_id):
                return node.status
        raise KeyError(f"no node named {name!r} in this dbt {self.command}")

    def count(self, resource_type: str) -> int:
        return sum(1 for n in self.nodes if n.resource_type == resource_type)


def project_dir() -> Path:
    """The dbt project dbt runs in and writes target/, logs/ and manifests to (created on
    first use when Switchboard runs installed; see switchboard/resources.py)."""
    return resources.dbt_project()


# --------------------------------------------------------------------------- running dbt


def as_of_var(as_of: datetime) -> str:
    """The as-of timestamp as dbt sees it: ISO 8601 in UTC without offset."""
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    return as_of.isoformat(sep="T")


def dbt_vars(as_of: datetime, config: RoutingConfig) -> dict[str, Any]:
    return {"as_of": as_of_var(as_of), **config.dbt_vars()}


@contextmanager
def _warehouse_env(warehouse: Path) -> Iterator[None]:
    previous = os.environ.get(WAREHOUSE_ENV)
    os.environ[WAREHOUSE_ENV] = str(Path(warehouse).resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = previous


def _release_warehouse() -> None:
    """Close dbt-duckdb's process-wide DuckDB handle so the file is free for other callers."""
    # dbt is imported lazily: importing it costs seconds that sources_yaml() need not pay.
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # no environment was created: nothing is open
        return
    environment.close()
    DuckDBConnectionManager.close_all_connections()


def _node_results(run_result: Any) -> tuple[NodeResult, ...]:
    nodes: list[NodeResult] = []
    for result in getattr(run_result, "results", None) or ():
        node = result.node
        status = getattr(result.status, "value", result.status)
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
                status=str(status),
                message=result.message,
                failures=result.failures,
                execution_time=float(result.execution_time or 0.0),
            )
        )
    return tuple(nodes)


def _failure_message(command: str, nodes: Sequence[NodeResult]) -> str:
    failed = [n for n in nodes if n.failed]
    skipped = sum(1 for n in nodes if n.status == "skipped")
    names = ", ".join(n.name for n in failed) or "no node reported a failure"
    first = f"dbt {command} failed: {len(failed)} of {len(nodes)} nodes failed ({names})"
    if skipped:
        first += f"; {skipped} skipped"
    details = [
        f"  {n.resource_type} {n.unique_id} [{n.status}]: {(n.message or '').strip()}"
        for n in failed
    ]
    return "\n".join([first, *details])


_KEEP_RUN_RESULTS_ONLY = frozenset({"build", "run", "test"})


def _invoke(
    command: Sequence[str],
    warehouse: Path,
    extra_args: Sequence[str],
    target_dir: Path | None,
    log_dir: Path | None,
    dbt_target: str = LOCAL_TARGET,
) -> DbtResult:
    """Run one dbt command. `warehouse` is the DuckDB file on the local target and the
    Spark home (tables and metastore, switchboard.spark.session) on the spark target."""
    if dbt_target not in TARGETS:
        raise ValueError(f"unknown dbt target {dbt_target!r}: use one of {', '.join(TARGETS)}")
    if dbt_target == SPARK_TARGET:
        # dbt-spark's session method calls SparkSession.builder.getOrCreate(): started
        # here first, it gets the project's session (local cores, catalog under the home).
        from switchboard.spark.session import local_session

        local_session(warehouse)

    from dbt.cli.main import dbtRunner

    from switchboard.dbt_manifest import manifest

    project = project_dir()
    target = Path(target_dir) if target_dir else project / "target"
    logs = Path(log_dir) if log_dir else project / "logs"
    base = [
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
        "--log-level",
        "none",
        "--log-level-file",
        "info",
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--target",
        dbt_target,
    ]
    # build, run and test hand dbt the cached parse: dbt would write it back as
    # manifest.json after every invocation (0.4-0.8 s, whatever the book's size), so
    # they skip dbt's JSON artefacts and keep run_results.json themselves.
    own_results = command[0] in _KEEP_RUN_RESULTS_ONLY
    args = [*command, *base, *extra_args, *(["--no-write-json"] if own_results else [])]
    name = " ".join(command)
    with _INVOKE_LOCK, _warehouse_env(warehouse):
        try:
            parsed = manifest(_vars_of(extra_args), warehouse, base, dbt_target)
            outcome = dbtRunner(manifest=parsed).invoke(args)
        finally:
            if dbt_target == LOCAL_TARGET:
                _release_warehouse()
    results = outcome.result
    if own_results and results is not None and hasattr(results, "write"):
        target.mkdir(parents=True, exist_ok=True)
        results.write(str(target / "run_results.json"))
    if outcome.exception is not None:  # dbt could not start: project, profile or parse error
        text = str(outcome.exception).strip() or repr(outcome.exception)
        raise DbtBuildFailed(f"dbt {name} failed: {text}")
    nodes = _node_results(outcome.result)
    if not outcome.success or any(n.failed for n in nodes):
        raise DbtBuildFailed(_failure_message(name, nodes), [n for n in nodes if n.failed], nodes)
    return DbtResult(command=name, nodes=nodes, target_dir=target)


def _vars_of(args: Sequence[str]) -> dict[str, Any]:
    """The `--vars` among dbt arguments (the parse uses the same values)."""
    items = list(args)
    if "--vars" not in items:
        return {}
    value = json.loads(items[items.index("--vars") + 1])
    return value if isinstance(value, dict) else {}


def build(
    warehouse: Path,
    as_of: datetime,
    config: RoutingConfig,
    select: str | None = None,
    *,
    exclude: str | None = None,
    selector: str | None = None,
    full_refresh: bool = False,
    changes: bool = False,
    data_tests_on_changes: bool = False,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
    target: str = LOCAL_TARGET,
) -> DbtResult:
    """`dbt build` against `warehouse` as of `as_of` (naive means UTC) with `config`'s settings.

    `select` / `exclude` take dbt selection syntax ("marts", "+fct_rep_workload");
    `selector` names a selection of dbt_project/selectors.yml (FIRST_RUN_OF_DAY,
    LATER_RUN_OF_DAY).
    `full_refresh` rebuilds incremental models, dropping fct_rep_workload's history.
    `changes` updates the per-record models with raw.changes only (macros/changes.sql):
    the caller has checked that they were built from the change set's base load
    (switchboard.changes.incremental_reason).
    `data_tests_on_changes`, with `changes`: the generic tests of the scoped marts read only
    the records the build updated (a later run of the day; macros/changes.sql).
    `target` "spark" builds on Apache Spark in this process: `warehouse` is then the Spark
    home (switchboard.spark.session.local_session; the raw, reference and routing tables
    loaded there by switchboard.spark.load). Every model is rebuilt whole there and the
    snapshots are replaced by their first version (docs/decisions/0025), so `changes` is
    refused.
    Raises DbtBuildFailed (first line: what failed) when any node errors or fails.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown dbt target {target!r}: use one of {', '.join(TARGETS)}")
    if target == SPARK_TARGET and (changes or data_tests_on_changes):
        raise ValueError(
            "the spark target rebuilds every model: changes and data_tests_on_changes "
            "need the local (DuckDB) target"
        )
    variables = {
        **dbt_vars(as_of, config),
        "changes": changes,
        "data_tests_on_changes": data_tests_on_changes,
    }
    extra = ["--vars", json.dumps(variables)]
    if select:
        extra += ["--select", *select.split()]
    if exclude:
        extra += ["--exclude", *exclude.split()]
    if selector:
        extra += ["--selector", selector]
    if full_refresh:
        extra.append("--full-refresh")
    if target == SPARK_TARGET and target_dir is None:
        # Its own artefacts: the DuckDB build's run_results.json stays that build's.
        target_dir = spark_target_dir()
    result = _invoke(["build"], Path(warehouse), extra, target_dir, log_dir, target)
    return DbtResult(
        command=result.command,
        nodes=result.nodes,
        target_dir=result.target_dir,
        variables=variables,
    )


def spark_target_dir() -> Path:
    """Where a spark-target build writes dbt's artefacts."""
    return project_dir() / "target" / SPARK_TARGET


# dbt unit tests check the SQL against fixed rows: they belong to the test suite (which
# builds with them, tests/unit/dbt_project/test_models.py), not to every routing run, where they
# cost about 7 s of a 12 s build whatever the data.
DEVELOPMENT_ONLY = "resource_type:unit_test"
# What routing runs build (dbt_project/selectors.yml): the first run of a day runs every
# data test, later runs the error-level tests on the marts the engine reads.
FIRST_RUN_OF_DAY = "first_run_of_day"
LATER_RUN_OF_DAY = "later_run_of_day"

ARRIVALS_SELECTOR = "tag:arrivals"


def arrivals_target_dir() -> Path:
    """Its own target folder: the hourly build's vars change every run, and its artefacts
    (run_results.json) stay those of the last hourly build."""
    return project_dir() / "target" / "arrivals"


def run_arrivals(
    warehouse: Path,
    as_of: datetime,
    config: RoutingConfig,
    *,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
) -> DbtResult:
    """`dbt run` of the models tagged `arrivals` (those describing accounts and leads, the
    scope model, and the views an arrivals pass reads) as an incremental build on the
    pass's change set: raw.changes then lists the records the pass appended
    (switchboard.changes.record_arrivals), and the models update those and every record
    whose row reads them (macros/changes.sql). The views that read the as-of (tag
    `as_of_view`) are recreated with the pass's. Data tests stay with the hourly build; the
    arrivals pass checks its raw rows at ingest and its decisions after the engine.

    Only `changes` is read while dbt parses, so the parsed manifest is the hourly
    incremental build's whatever the as-of (switchboard.dbt_manifest).
    """
    target = target_dir if target_dir is not None else arrivals_target_dir()
    return _run_selected(warehouse, as_of, config, ARRIVALS_SELECTOR, True, target, log_dir)


def _run_selected(
    warehouse: Path,
    as_of: datetime,
    config: RoutingConfig,
    select: str,
    changes: bool,
    target: Path,
    log_dir: Path | None,
) -> DbtResult:
    """`dbt run --select select` with the run's vars (``changes`` as given)."""
    variables = {**dbt_vars(as_of, config), "changes": changes}
    extra = ["--vars", json.dumps(variables), "--select", select]
    result = _invoke(["run"], Path(warehouse), extra, target, log_dir)
    return DbtResult(
        command=result.command,
        nodes=result.nodes,
        target_dir=result.target_dir,
        variables=variables,
    )


AS_OF_VIEWS_SELECTOR = "tag:as_of_view"


def refresh_as_of_views(
    warehouse: Path,
    as_of: datetime,
    config: RoutingConfig,
    *,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
) -> DbtResult:
    """`dbt run` of the views that read the as-of (tag `as_of_view`: int_pending_owners,
    int_lead_sla_clocks_due), recreated with ``as_of``: a run that reuses the day's marts
    routes at another as-of than the build that made them. Views only: nothing is
    rebuilt, and the parsed manifest is the full build's (switchboard.dbt_manifest)."""
    target = target_dir if target_dir is not None else project_dir() / "target" / "as_of_views"
    return _run_selected(warehouse, as_of, config, AS_OF_VIEWS_SELECTOR, False, target, log_dir)


def test(
    warehouse: Path,
    as_of: datetime,
    config: RoutingConfig,
    *,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
) -> DbtResult:
    """Every data test of the project against an already built warehouse (no unit tests,
    nothing rebuilt). Raises DbtBuildFailed naming the failing tests."""
    variables = dbt_vars(as_of, config)
    extra = ["--vars", json.dumps(variables), "--exclude", DEVELOPMENT_ONLY]
    result = _invoke(["test"], Path(warehouse), extra, target_dir, log_dir)
    return DbtResult(
        command=result.command,
        nodes=result.nodes,
        target_dir=result.target_dir,
        variables=variables,
    )


def docs_generate(
    warehouse: Path,
    as_of: datetime,
    config: RoutingConfig,
    *,
    static: bool = False,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
) -> Path:
    """`dbt docs generate` (manifest + catalog of the built warehouse); returns the target
    folder holding index.html, manifest.json and catalog.json, and with ``static`` also
    static_index.html (`--static`: the site with both inlined, one file that opens
    without a server)."""
    extra = ["--vars", json.dumps(dbt_vars(as_of, config)), *(["--static"] if static else [])]
    result = _invoke(["docs", "generate"], Path(warehouse), extra, target_dir, log_dir)
    return result.target_dir


STATIC_DOCS_FILE = "static_index.html"


def static_docs(warehouse: Path, as_of: datetime, config: RoutingConfig, out: Path) -> Path:
    """dbt's documentation site of the warehouse as one file, ``out/index.html`` (written
    whole, then renamed into place); dbt's other artefacts stay in a temporary folder."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchboard-docs-") as scratch:
        target = docs_generate(
            warehouse,
            as_of,
            config,
            static=True,
            target_dir=Path(scratch) / "target",
            log_dir=Path(scratch) / "logs",
        )
        staged = out / f".{STATIC_DOCS_FILE}.partial"
        shutil.copyfile(target / STATIC_DOCS_FILE, staged)
        page = out / "index.html"
        os.replace(staged, page)
    return page


# `python -m switchboard.dbt sources [--check]`: the sources generator's command line.
if __name__ == "__main__":
    from switchboard.dbt_sources import main

    raise SystemExit(main())
