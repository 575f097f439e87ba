"""A local SparkSession with the project's settings, shared by dbt-spark and the engine.

dbt-spark's ``session`` method calls ``SparkSession.builder.getOrCreate()``; built here
first, in the same process, it gets this one: local[N] cores, the catalog and tables under
one directory (a Derby metastore beside Parquet tables, so tables outlive the process),
UTC session time, no UI, Arrow transfers on, and Python workers that run this
interpreter (its virtualenv has Polars and the engine).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Where a project's Spark tables and metastore live, unless SWITCHBOARD_SPARK_HOME says.
DEFAULT_HOME = Path("spark-warehouse")


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing: `make spark-setup` installs both."""


def spark_home(home: Path | str | None = None) -> Path:
    """The directory holding the Spark tables and their metastore."""
    chosen = home or os.environ.get("SWITCHBOARD_SPARK_HOME") or DEFAULT_HOME
    return Path(chosen).resolve()


def local_session(
    home: Path | str | None = None, *, cores: int = 2, shuffle_partitions: int = 4
) -> SparkSession:
    """The process's SparkSession on ``local[cores]``, its tables under ``home``.

    Idempotent within a process: a second call returns the running session (Spark allows
    one per JVM), whatever ``home`` it is given.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkUnavailable(
            "the Spark target needs pyspark and dbt-spark: run `make spark-setup`"
        ) from error
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    root = spark_home(home)
    root.mkdir(parents=True, exist_ok=True)
    # The workers must import polars and switchboard: run them with this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    derby = f"-Dderby.system.home={root / 'metastore'}"
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("switchboard")
        .config("spark.sql.warehouse.dir", str(root / "tables"))
        .config("spark.driver.extraJavaOptions", derby)
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={root / 'metastore' / 'db'};create=true",
        )
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", os.environ.get("SWITCHBOARD_SPARK_DRIVER_MEMORY", "4g"))
        .enableHiveSupport()
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: no java, or the wrong version
        raise SparkUnavailable(
            f"Spark could not start ({error.__class__.__name__}: {error}); it needs Java 17 "
            "or later on PATH: run `make spark-setup`"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    return session
