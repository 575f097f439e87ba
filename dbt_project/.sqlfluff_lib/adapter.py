"""Stand-in for dbt's `adapter` Jinja object while sqlfluff renders the models: dispatch
picks the project's `default__` implementation (the DuckDB SQL, macros/cross_db/), as
dbt-duckdb's dispatch does."""

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    return context[f"default__{macro_name}"]
