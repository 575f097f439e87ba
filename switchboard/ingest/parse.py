"""Text to contract types, as Polars expressions: a value normalised (whitespace, empty
text and NaN), then parsed as an integer, number, boolean, ISO 8601 date or timestamp
(to naive UTC) or a ';'-separated list; null where the text does not parse.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
INTEGER_RE = r"^[+-]?\d+(\.0*)?$"  # "1200.0" is what spreadsheets and float columns emit
NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
# A date, or a date and time with optional seconds, fraction and UTC offset (upper-cased).
TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? *(Z|[+-]\d{2}(:?\d{2})?)?)?$"
TIMESTAMP_OFFSET_RE = r"(Z|[+-]\d{2}(?::?\d{2})?)$"


def normalise(name: str, column_type: str = "string") -> pl.Expr:
    """Whitespace stripped; empty text is null.

    In numeric columns 'NaN' is null too: it is how numpy, pandas and Polars write a
    missing float to CSV, and never a value anyone meant.
    """
    stripped = pl.col(name).str.strip_chars()
    present = stripped != ""
    if column_type in ("integer", "number"):
        present &= stripped.str.to_lowercase() != "nan"
    return pl.when(present).then(stripped)


def _parse_integer(text: pl.Expr) -> pl.Expr:
    digits = text.str.replace(r"\.0*$", "")
    return pl.when(text.str.contains(INTEGER_RE)).then(digits).cast(pl.Int64, strict=False)


def _parse_number(text: pl.Expr) -> pl.Expr:
    value = pl.when(text.str.contains(NUMBER_RE)).then(text).cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def _parse_boolean(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().replace_strict(BOOLEANS, default=None, return_dtype=pl.Boolean)


def _parse_date(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(DATE_RE)).then(text).str.to_date("%Y-%m-%d", strict=False)


def _parse_list(text: pl.Expr) -> pl.Expr:
    """';'-separated items, trimmed, empties dropped; no items at all is null."""
    item = pl.element().str.strip_chars()
    items = text.str.split(";").list.eval(item.filter(item != ""))
    return pl.when(items.list.len() > 0).then(items)


def parse(text: pl.Expr, column_type: str) -> pl.Expr:
    """Normalised text → the contract type; null where the text does not parse."""
    parsers: dict[str, Callable[[pl.Expr], pl.Expr]] = {
        "string": lambda t: t,
        "integer": _parse_integer,
        "number": _parse_number,
        "boolean": _parse_boolean,
        "date": _parse_date,
        "timestamp": parse_timestamp,
        "list": _parse_list,
    }
    if column_type not in parsers:
        raise ValueError(f"unknown column type {column_type!r}")
    return parsers[column_type](text)


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO 8601 date or date-time ('T' or space, optional fraction and offset) → naive UTC.

    No offset means UTC already; 'Z', '+02:00', '+0200' and '+02' are converted, and
    fractions beyond microseconds are truncated. Once the shape is checked, the pieces
    are reassembled into one canonical form and parsed with a single format: trying
    several formats in turn costs a failed parse per format per row.
    """
    upper = text.str.to_uppercase()
    has_time = upper.str.len_bytes() >= 16
    has_seconds = upper.str.slice(16, 1) == ":"
    canonical = pl.concat_str(
        [
            upper.str.slice(0, 10),
            pl.lit("T"),
            pl.when(has_time).then(upper.str.slice(11, 5)).otherwise(pl.lit("00:00")),
            pl.when(has_seconds).then(upper.str.slice(16, 3)).otherwise(pl.lit(":00")),
            upper.str.extract(r"^.{19}(\.\d+)").fill_null(""),
            upper.str.slice(16).str.extract(TIMESTAMP_OFFSET_RE).fill_null("Z"),
        ]
    )
    value = canonical.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", strict=False, cache=False
    ).dt.replace_time_zone(None)
    return pl.when(upper.str.contains(TIMESTAMP_RE)).then(value)
