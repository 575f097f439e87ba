"""The command line: ``python -m switchboard.spark.ingest SNAPSHOT --home HOME --run-id ID``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from switchboard.errors import SnapshotError
from switchboard.spark.session import local_session


def main(argv: Sequence[str] | None = None) -> int:
    """Ingest a snapshot on a local SparkSession; 2 on a SnapshotError."""
    from switchboard.spark.ingest import ingest_on_spark

    parser = argparse.ArgumentParser(
        prog="python -m switchboard.spark.ingest",
        description="Check a snapshot against its contracts on Spark and load its Spark tables.",
    )
    parser.add_argument("snapshot", help="the snapshot folder (a local path or s3a://...)")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="the Spark home (tables and metastore); default $SWITCHBOARD_SPARK_HOME "
        "or ./spark-warehouse",
    )
    parser.add_argument("--run-id", required=True, help="the run the rows are stamped with")
    args = parser.parse_args(argv)
    spark = local_session(args.home)
    try:
        report = ingest_on_spark(spark, args.snapshot, args.run_id, home=args.home)
    except SnapshotError as error:
        print(f"error: {error}")
        return 2
    for entity, r in report.entities.items():
        print(
            f"{entity}: {r.input_rows} rows, {r.loaded_rows} loaded, "
            f"{r.quarantined_rows} quarantined"
        )
    return 0
