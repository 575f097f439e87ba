"""Stand-in for dbt's cross-database macros (the `dbt` Jinja namespace) while sqlfluff
renders the models: each renders the DuckDB SQL dbt-duckdb would write."""


def dateadd(datepart: str, interval: object, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def generate_series(upper_bound: int) -> str:
    return f"select unnest(range(1, {upper_bound} + 1)) as generated_number"


def concat(fields: list[str]) -> str:
    return " || ".join(fields)


def array_construct(inputs: list[str], data_type: str = "varchar") -> str:
    return f"array[{', '.join(inputs)}]" if inputs else f"cast([] as {data_type}[])"


def array_append(array: str, new_element: str) -> str:
    return f"array_append({array}, {new_element})"


def split_part(string_text: str, delimiter_text: str, part_number: int) -> str:
    return f"string_split({string_text}, {delimiter_text})[{part_number}]"


def type_string() -> str:
    return "varchar"


def hash(field: str) -> str:  # dbt's macro name
    return f"md5(cast({field} as varchar))"
