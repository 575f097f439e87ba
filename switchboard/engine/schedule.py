"""Working hours: which reps are working at the run's as-of, and when the others start.

``reps.working_hours`` (data_contracts/reps.yml) is read in ``reps.timezone`` (UTC when
empty): day ranges and a time range, several separated by ``;``, e.g. ``Mon-Thu
09:00-17:00; Fri 09:00-13:00``. Days are ``mon`` .. ``sun`` in any case, a range may
wrap (``Fri-Mon``) and several may be listed with commas (``Mon,Wed-Fri``); an end at or
before the start ends the next day (``22:00-06:00``). An empty value means always working.

Everything is vectorised: the text is split into one row per (rep, weekday, shift), and
the as-of is converted once per distinct time zone (a loop over the handful of zones,
never over reps). A shift covers the as-of when it started on the local weekday (or the
day before, for a shift past midnight) and has not ended; the next start is the earliest
shift start after the as-of within the coming week, converted back to UTC in its zone, so
starts in different zones compare as instants.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MINUTES_PER_DAY = 24 * 60

SCHEDULE_SCHEMA: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "working_now": pl.Boolean(),
    "next_start": pl.Datetime("us"),
    "next_start_text": pl.String(),
}

_SHIFT = (
    r"^\s*(?<days>[A-Za-z ,\-]+?)\s+(?<sh>\d{1,2}):(?<sm>\d{2})"
    r"\s*-\s*(?<eh>\d{1,2}):(?<em>\d{2})\s*$"
)


def _day_index(text: pl.Expr) -> pl.Expr:
    return (
        text.str.strip_chars()
        .str.to_lowercase()
        .replace_strict({day: i for i, day in enumerate(DAYS)}, default=None, return_dtype=pl.Int64)
    )


def shifts(reps: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (rep_id, weekday 0=Mon, start minute, end minute) of working_hours.

    The end minute exceeds 1440 for a shift that ends the next day. Reps without
    working_hours have no rows; text that does not read (ingest sets such rows aside) has
    none either, so such a rep is never working.
    """
    parts = (
        reps.filter(pl.col("working_hours").is_not_null())
        .select("rep_id", part=pl.col("working_hours").str.split(";"))
        .explode("part")
        .filter(pl.col("part").str.strip_chars() != "")
        .with_columns(shift=pl.col("part").str.extract_groups(_SHIFT))
        .unnest("shift")
        .filter(pl.col("days").is_not_null())
        .with_columns(
            start=pl.col("sh").cast(pl.Int64) * 60 + pl.col("sm").cast(pl.Int64),
            end=pl.col("eh").cast(pl.Int64) * 60 + pl.col("em").cast(pl.Int64),
        )
        .with_columns(
            end=pl.when(pl.col("end") <= pl.col("start"))
            .then(pl.col("end") + _MINUTES_PER_DAY)
            .otherwise(pl.col("end"))
        )
    )
    return (
        parts.with_columns(span=pl.col("days").str.split(","))
        .explode("span")
        .with_columns(bounds=pl.col("span").str.split("-"))
        .with_columns(
            first=_day_index(pl.col("bounds").list.first()),
            last=_day_index(pl.col("bounds").list.last()),
        )
        .filter(pl.col("first").is_not_null() & pl.col("last").is_not_null())
        .with_columns(
            weekday=pl.int_ranges(
                "first",
                pl.col("last") + 1 + pl.when(pl.col("last") < pl.col("first")).then(7).otherwise(0),
            )
        )
        .explode("weekday")
        .select("rep_id", weekday=pl.col("weekday") % 7, start="start", end="end")
        .unique()
    )


def _zone_or_utc() -> pl.Expr:
    return pl.coalesce(pl.col("timezone"), pl.lit("UTC"))


def _local_clock(zones: list[str], as_of: datetime) -> pl.DataFrame:
    """Per time zone: the as-of as a naive local datetime. Zones Polars does not know
    (ingest lets none through) are left out: their reps are never working."""
    instant = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
    rows: list[dict[str, object]] = []
    for zone in zones:
        try:
            local = pl.select(
                pl.lit(instant).dt.convert_time_zone(zone).dt.replace_time_zone(None)
            ).item()
        except pl.exceptions.PolarsError:
            continue
        rows.append({"zone": zone, "local_now": local})
    return pl.DataFrame(rows, schema={"zone": pl.String(), "local_now": pl.Datetime("us")})


def _to_utc(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``column`` (naive local time in ``zone``) as naive UTC, converted zone by zone.

    A local time that does not exist (in the hour a DST change skips) is read an hour
    later, as the clocks show it after the change (02:30 becomes 03:30); an ambiguous
    one as the earlier instant."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, pl.Datetime("us")).alias(f"{column}_utc"))
    parts = []
    for (zone,), part in frame.partition_by("zone", as_dict=True).items():
        local = pl.col(column)
        exact = local.dt.replace_time_zone(str(zone), ambiguous="earliest", non_existent="null")
        shifted = (local + pl.duration(hours=1)).dt.replace_time_zone(
            str(zone), ambiguous="earliest", non_existent="null"
        )
        parts.append(
            part.with_columns(
                pl.coalesce(exact, shifted)
                .dt.convert_time_zone("UTC")
                .dt.replace_time_zone(None)
                .alias(f"{column}_utc")
            )
        )
    return pl.concat(parts)


def rep_schedule(reps: pl.LazyFrame, as_of: datetime) -> pl.DataFrame:
    """Per rep (``rep_id``, ``timezone``, ``working_hours``): working at the as-of, and
    if not, the next shift start (naive UTC) and how to say it ("09:00 Europe/Berlin",
    with the weekday when it is not the rep's local today).

    A rep without working hours is always working. A rep whose hours give no shift within
    the coming week has no next start.
    """
    base = reps.select("rep_id", "timezone", "working_hours").unique("rep_id").collect()
    if base["working_hours"].null_count() == base.height:  # nobody has hours: all work
        return base.select(
            "rep_id",
            working_now=pl.lit(True),
            next_start=pl.lit(None, pl.Datetime("us")),
            next_start_text=pl.lit(None, pl.String()),
        ).cast(SCHEDULE_SCHEMA)  # type: ignore[arg-type]
    base = base.with_columns(zone=_zone_or_utc())
    clock = _local_clock(base["zone"].unique().sort().to_list(), as_of)
    with_clock = base.join(clock, on="zone", how="left").with_columns(
        minute=pl.col("local_now").dt.hour().cast(pl.Int64) * 60
        + pl.col("local_now").dt.minute().cast(pl.Int64),
        today=pl.col("local_now").dt.weekday().cast(pl.Int64) - 1,
        local_date=pl.col("local_now").dt.date(),
    )
    rows = shifts(base.lazy()).join(
        with_clock.lazy().select("rep_id", "zone", "local_now", "minute", "today", "local_date"),
        on="rep_id",
        how="inner",
    )
    # A shift that started today, or yesterday and runs past midnight, covers the as-of.
    working = (
        rows.filter(
            (
                (pl.col("weekday") == pl.col("today"))
                & (pl.col("start") <= pl.col("minute"))
                & (pl.col("minute") < pl.col("end"))
            )
            | (
                (pl.col("weekday") == (pl.col("today") + 6) % 7)
                & (pl.col("start") <= pl.col("minute") + _MINUTES_PER_DAY)
                & (pl.col("minute") + _MINUTES_PER_DAY < pl.col("end"))
            )
        )
        .select("rep_id", on_shift=pl.lit(True))
        .unique()
    )
    offsets = pl.LazyFrame({"offset": list(range(8))}, schema={"offset": pl.Int64()})
    upcoming = (
        rows.join(offsets, how="cross")
        .filter(pl.col("weekday") == (pl.col("today") + pl.col("offset")) % 7)
        .filter((pl.col("offset") > 0) | (pl.col("start") > pl.col("minute")))
        .with_columns(
            next_local=pl.col("local_date").cast(pl.Datetime("us"))
            + pl.duration(days=pl.col("offset"), minutes=pl.col("start"))
        )
        .group_by("rep_id", "zone", "local_date")
        .agg(pl.col("next_local").min())
        .collect()
    )
    upcoming = _to_utc(upcoming, "next_local").with_columns(
        next_start_text=pl.concat_str(
            [
                pl.when(pl.col("next_local").dt.date() != pl.col("local_date")).then(
                    (pl.col("next_local").dt.weekday() - 1).replace_strict(
                        dict(enumerate(_DAY_NAMES)), return_dtype=pl.String
                    )
                    + " "
                ),
                pl.col("next_local").dt.strftime("%H:%M"),
                pl.lit(" "),
                pl.col("zone"),
            ],
            ignore_nulls=True,
        )
    )
    return (
        with_clock.lazy()
        .join(working, on="rep_id", how="left")
        .join(
            upcoming.lazy().select("rep_id", "next_local_utc", "next_start_text"),
            on="rep_id",
            how="left",
        )
        .select(
            "rep_id",
            working_now=pl.col("working_hours").is_null() | pl.col("on_shift").fill_null(False),
            next_start=pl.when(
                pl.col("on_shift").is_null() & pl.col("working_hours").is_not_null()
            ).then(pl.col("next_local_utc")),
            next_start_text=pl.when(
                pl.col("on_shift").is_null() & pl.col("working_hours").is_not_null()
            ).then(pl.col("next_start_text")),
        )
        .collect()
        .cast(SCHEDULE_SCHEMA)  # type: ignore[arg-type]
    )
