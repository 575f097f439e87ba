"""The Spark target: the same dbt project and engine on Apache Spark.

Needs the optional extras and Java (`make spark-setup`); nothing here is imported by the
DuckDB path, so `make test` and every DuckDB run work without them. See
docs/OPERATIONS.md "Past one machine".
"""
