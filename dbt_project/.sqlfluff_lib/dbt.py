"""Stand-in for dbt's cross-database macros (the `dbt` Jinja namespace) while sqlfluff
renders the models: each renders the DuckDB SQL dbt-duckdb would write."""


def dateadd(datepart: str, interval: object, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def generate_series(upper_bound: int) -> str:
    return f"select unnest(range(1, {upper_bound} + 1)) as generated_number"


def concat(fields: list[str]) -> str:
    return " || ".join(fields)
