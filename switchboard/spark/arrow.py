"""Frames between Polars and Spark: Arrow IPC bytes for what travels to tasks, and the
Arrow shapes Spark's exchange reads (UTC instants, 32-bit offsets)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc_stream(sink)
    return sink.getvalue()


def from_ipc(payload: bytes) -> pl.DataFrame:
    return pl.read_ipc_stream(io.BytesIO(payload))


def to_polars(frame: DataFrame) -> pl.DataFrame:
    table = frame.toArrow()
    return pl.DataFrame(pl.from_arrow(table))


def spark_frame(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """A small Polars frame as a Spark DataFrame (timestamps as UTC instants)."""
    return spark.createDataFrame(arrow_frame(frame))


def spark_schema(schema: dict[str, pl.DataType]) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_frame(pl.DataFrame(schema=schema)).schema)


def plain(dtype: pa.DataType) -> pa.DataType:
    """An Arrow type with 32-bit offsets (Spark reads no large strings or lists)."""
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if pa.types.is_large_list(dtype) or pa.types.is_list(dtype):
        return pa.list_(plain(dtype.value_type))
    if pa.types.is_struct(dtype):
        return pa.struct([pa.field(f.name, plain(f.type)) for f in dtype])
    return dtype


def arrow_frame(frame: pl.DataFrame) -> pa.Table:
    """Timestamps as UTC instants, strings and lists with 32-bit offsets: what Spark's
    Arrow exchange reads."""
    table = frame.with_columns(
        pl.col(c).dt.replace_time_zone("UTC")
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is None
    ).to_arrow()
    schema = pa.schema([pa.field(f.name, plain(f.type)) for f in table.schema])
    if table.num_rows == 0:  # one empty chunk per column: Spark rejects a column of none
        return pa.Table.from_arrays([pa.array([], f.type) for f in schema], schema=schema)
    return table.cast(schema)


def local_frame(frame: DataFrame) -> pl.DataFrame:
    """A Spark DataFrame in the driver as Polars, timestamps naive in UTC as the engine
    writes them (Spark hands them back as UTC instants)."""
    table = to_polars(frame)
    return table.with_columns(
        pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for c, dtype in table.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def empty_arrow(frame: DataFrame) -> pa.Table:
    """A Spark DataFrame's schema as an empty Arrow table (no Spark job runs)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(frame.schema)
    return pa.Table.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def polars_schema(frame: DataFrame) -> dict[str, pl.DataType]:
    """A Spark DataFrame's schema as Polars types."""
    return dict(pl.DataFrame(pl.from_arrow(empty_arrow(frame))).schema)
