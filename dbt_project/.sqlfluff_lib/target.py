"""Stand-in for dbt's `target` Jinja variable while sqlfluff renders the models: the
default output of profiles.yml, DuckDB."""

name = "local"
type = "duckdb"  # dbt's attribute name
schema = "main"
