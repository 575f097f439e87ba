"""``python -m switchboard.spark.ingest``: see switchboard/spark/ingest/cli.py."""

from switchboard.spark.ingest.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
