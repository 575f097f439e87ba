"""Distribution charts: one dot per record in a row per group (``strip``) and counts per
value bin (``histogram``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from switchboard.charts.layout import (
    BAR,
    BLUE,
    FONT,
    LABEL_CHARS,
    ROW,
    TOP,
    WIDTH,
    RefLine,
    _axis_titles,
    _count_ticks,
    _empty,
    _figure,
    _join,
    _largest,
    _ref_lines,
    _x_value_axis,
    _y_count_axis,
    esc,
    line_legend,
    nice_step,
    short_number,
    shorten,
    text_width,
    value_ticks,
)


def strip(
    frame: pl.DataFrame,
    *,
    group: str,
    value: str,
    chart_id: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str,
    tooltip: str,
    lines: Sequence[RefLine] = (),
    legend: Sequence[tuple[str, str, str]] = (),
) -> str:
    """One row per group (sorted), one dot per row of ``frame`` at its value: every rep of
    every team on one chart, however many. Dots within a row are spread over five heights
    so that equal values stay visible."""
    groups = frame.select(pl.col(group).unique().sort()).to_series()
    n = groups.len()
    if n == 0:
        return _empty(chart_id, title)
    label_chars = (
        int(
            _largest(
                groups.to_frame()
                .select(shorten(pl.col(group), LABEL_CHARS).str.len_chars())
                .to_series()
            )
        )
        or 1
    )
    left = text_width(label_chars) + 12
    right = WIDTH - 28
    top_value = max([_largest(frame[value])] + [line.value for line in lines]) or 1.0
    ticks = value_ticks(top_value, right - left)
    scale = (right - left) / ticks[-1]
    bottom = TOP + n * ROW + 4
    height = bottom + 2 * FONT + 22
    rows = pl.DataFrame({group: groups}).with_row_index("i").with_columns(y=TOP + pl.col("i") * ROW)
    labels = _join(
        rows,
        pl.format(
            '<g><title>{}</title><text class="label" x="{}" y="{}" text-anchor="end">{}</text></g>',
            esc(pl.col(group)),
            pl.lit(f"{left - 8:.1f}"),
            pl.col("y") + BAR - 2,
            esc(shorten(pl.col(group), LABEL_CHARS)),
        ),
    )
    bands = _join(
        rows.filter(pl.col("i") % 2 == 0),
        pl.format(
            '<rect class="band" x="{}" y="{}" width="{}" height="{}"/>',
            pl.lit(f"{left:.1f}"),
            pl.col("y") - 3,
            pl.lit(f"{right - left:.1f}"),
            pl.lit(ROW),
        ),
    )
    dots = (
        frame.filter(pl.col(value).is_not_null())
        .join(rows.select(group, "y"), on=group)
        .with_columns(
            cx=(left + pl.col(value) * scale).round(1),
            cy=(pl.col("y") + 3 + (pl.int_range(pl.len()).over(group) % 5) * 2).round(1),
        )
    )
    circles = _join(
        dots,
        pl.format(
            '<circle cx="{}" cy="{}" r="3.5" fill="{}" fill-opacity="0.75"><title>{}</title>'
            "</circle>",
            "cx",
            "cy",
            color,
            esc(pl.col(tooltip)),
        ),
    )
    svg = (
        bands
        + _x_value_axis(ticks, scale, left, TOP - 4, bottom)
        + labels
        + _ref_lines(lines, scale, left, TOP, bottom)
        + circles
        + _axis_titles(x_title, y_title, (left + right) / 2, height - 6)
    )
    return _figure(chart_id, title, svg, [*legend, *line_legend(lines)], WIDTH, height)


def histogram(
    values: pl.Series,
    *,
    chart_id: str,
    title: str,
    x_title: str,
    y_title: str,
    lines: Sequence[RefLine] = (),
    target_bins: int = 30,
) -> str:
    """How many values fall in each bin of equal width from 0, drawn as columns; the bin
    width is a round number giving about ``target_bins`` bins up to the largest value (or
    reference line)."""
    plot_h = 220.0
    data = values.drop_nulls().cast(pl.Float64).clip(lower_bound=0).to_frame("v")
    if data.is_empty():
        return _empty(chart_id, title)
    top_value = max([_largest(data["v"])] + [line.value for line in lines]) or 1.0
    width = nice_step(top_value, target_bins)
    bins = math.floor(top_value / width) + 1
    counts = (
        pl.DataFrame({"bin": pl.int_range(0, bins, eager=True)})
        .join(
            data.group_by(bin=(pl.col("v") / width).floor().cast(pl.Int64)).agg(n=pl.len()),
            on="bin",
            how="left",
        )
        .with_columns(pl.col("n").fill_null(0))
    )
    y_ticks = _count_ticks(_largest(counts["n"]), plot_h)
    left = text_width(max(len(short_number(t)) for t in y_ticks)) + 14
    right = WIDTH - 28
    x_scale = (right - left) / (bins * width)
    y_scale = plot_h / y_ticks[-1]
    base = TOP + plot_h
    height = base + 2 * FONT + 28
    columns = _join(
        counts,
        pl.format(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} to {}: {}</title>'
            "</rect>",
            (left + pl.col("bin") * width * x_scale + 1).round(1),
            (base - pl.col("n") * y_scale).round(1),
            pl.lit(f"{max(width * x_scale - 2, 1):.1f}"),
            (pl.col("n") * y_scale).round(1),
            pl.lit(BLUE),
            (pl.col("bin") * width).round(6),
            ((pl.col("bin") + 1) * width).round(6),
            "n",
        ),
    )
    y_axis = _y_count_axis(y_ticks, y_scale, left, right, base)
    # x tick labels every k bins, k such that neighbouring labels are a label's width apart
    min_gap = text_width(6) + 16
    every = max(1, math.ceil(min_gap / (width * x_scale)))
    x_axis = "".join(
        f'<text class="tick" x="{left + b * width * x_scale:.1f}" y="{base + FONT + 4:.1f}" '
        f'text-anchor="middle">{short_number(b * width)}</text>'
        for b in range(0, bins + 1, every)
    )
    refs = _ref_lines(lines, x_scale, left, TOP, base)
    svg = (
        y_axis
        + columns
        + refs
        + f'<line class="axis" x1="{left:.1f}" y1="{base:.1f}" x2="{right:.1f}" '
        f'y2="{base:.1f}"/>'
        + x_axis
        + _axis_titles(x_title, y_title, (left + right) / 2, height - 6)
    )
    return _figure(chart_id, title, svg, line_legend(lines), WIDTH, height)
