"""Horizontal bar charts: one bar per category (``hbar``) and bars either side of zero
(``diverging``)."""

from __future__ import annotations

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
    _empty,
    _figure,
    _join,
    _largest,
    _ref_lines,
    _widest,
    _x_value_axis,
    esc,
    fixed,
    line_legend,
    shorten,
    text_width,
    value_ticks,
)


def hbar(
    frame: pl.DataFrame,
    *,
    label: str,
    value: str,
    chart_id: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    tooltip: str | None = None,
    lines: Sequence[RefLine] = (),
    legend: Sequence[tuple[str, str, str]] = (),
    decimals: int = 0,
    x_max: float | None = None,
) -> str:
    """Horizontal bars, one row per row of ``frame`` in its order: the label left of the
    axis, the value at the bar's end. ``color`` names a column of CSS colours."""
    n = frame.height
    if n == 0:
        return _empty(chart_id, title)
    shown = shorten(pl.col(label), LABEL_CHARS)
    number = fixed(pl.col(value), decimals)
    label_chars, value_chars = _widest(frame, shown, number)
    left = text_width(label_chars) + 12
    right = WIDTH - text_width(value_chars) - 12
    top_value = (
        max([_largest(frame[value])] + [line.value for line in lines] + [x_max or 0.0]) or 1.0
    )
    ticks = value_ticks(top_value, right - left)
    scale = (right - left) / ticks[-1]
    bottom = TOP + n * ROW + 4
    height = bottom + 2 * FONT + 22
    rows = frame.with_row_index("i").with_columns(
        y=TOP + pl.col("i") * ROW,
        w=(pl.col(value).fill_null(0) * scale).round(1),
        fill=pl.col(color) if color else pl.lit(BLUE),
        tip=esc(pl.col(tooltip) if tooltip else pl.col(label)),
    )
    bars = _join(
        rows,
        pl.format(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
            pl.lit(f"{left:.1f}"),
            pl.col("y"),
            "w",
            pl.lit(BAR),
            "fill",
            "tip",
            number,
        ),
    )
    texts = _join(
        rows,
        pl.format(
            '<g><title>{}</title><text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
            '</g><text class="value" x="{}" y="{}">{}</text>',
            "tip",
            pl.lit(f"{left - 8:.1f}"),
            (pl.col("y") + BAR - 2).round(1),
            esc(shown),
            (pl.col("w") + left + 4).round(1),
            (pl.col("y") + BAR - 2).round(1),
            number,
        ),
    )
    svg = (
        _x_value_axis(ticks, scale, left, TOP - 4, bottom)
        + bars
        + _ref_lines(lines, scale, left, TOP, bottom)
        + texts
        + f'<line class="axis" x1="{left:.1f}" y1="{TOP - 4}" x2="{left:.1f}" '
        f'y2="{bottom:.1f}"/>' + _axis_titles(x_title, y_title, (left + right) / 2, height - 6)
    )
    return _figure(chart_id, title, svg, [*legend, *line_legend(lines)], WIDTH, height)


def diverging(
    frame: pl.DataFrame,
    *,
    label: str,
    value: str,
    chart_id: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    tooltip: str | None = None,
    legend: Sequence[tuple[str, str, str]] = (),
    decimals: int = 1,
) -> str:
    """Horizontal bars from a zero line, one row per row of ``frame`` in its order: values
    below 0 to the left, above 0 to the right, each with its number at the bar's end (a
    member's drift from the expected share). The axis is symmetric, so equal drifts have
    equal bars either way; room for a number is kept on both sides. ``color`` names a
    column of CSS colours (default: orange above 0, blue below)."""
    n = frame.height
    if n == 0:
        return _empty(chart_id, title)
    shown = shorten(pl.col(label), LABEL_CHARS)
    number = fixed(pl.col(value), decimals)
    label_chars, value_chars = _widest(frame, shown, number)
    label_right = text_width(label_chars) + 4
    pad = text_width(value_chars) + 8  # a number beside the longest bar, each side
    left, right = label_right + 8 + pad, WIDTH - pad - 4
    reach = _largest(frame.select(pl.col(value).abs()).to_series()) or 1.0
    half = value_ticks(reach, (right - left) / 2)
    scale = (right - left) / (2 * half[-1])
    zero = (left + right) / 2
    ticks = [-t for t in reversed(half[1:])] + half
    bottom = TOP + n * ROW + 4
    height = bottom + 2 * FONT + 22
    v = pl.col(value).fill_null(0)
    rows = (
        frame.with_row_index("i")
        .with_columns(
            y=TOP + pl.col("i") * ROW,
            w=(v.abs() * scale).round(1),
            fill=pl.col(color)
            if color
            else pl.when(v > 0).then(pl.lit("#e67e22")).otherwise(pl.lit(BLUE)),
            tip=esc(pl.col(tooltip) if tooltip else pl.col(label)),
        )
        .with_columns(
            x=pl.when(v < 0).then(zero - pl.col("w")).otherwise(zero).round(1),
            tx=pl.when(v < 0)
            .then(zero - pl.col("w") - 4)
            .otherwise(zero + pl.col("w") + 4)
            .round(1),
            anchor=pl.when(v < 0).then(pl.lit("end")).otherwise(pl.lit("start")),
        )
    )
    bars = _join(
        rows,
        pl.format(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
            "x",
            "y",
            "w",
            pl.lit(BAR),
            "fill",
            "tip",
            number,
        ),
    )
    texts = _join(
        rows,
        pl.format(
            '<g><title>{}</title><text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
            '</g><text class="value" x="{}" y="{}" text-anchor="{}">{}</text>',
            "tip",
            pl.lit(f"{label_right:.1f}"),
            (pl.col("y") + BAR - 2).round(1),
            esc(shown),
            "tx",
            (pl.col("y") + BAR - 2).round(1),
            "anchor",
            number,
        ),
    )
    svg = (
        _x_value_axis(ticks, scale, zero, TOP - 4, bottom)
        + bars
        + texts
        + f'<line class="axis" x1="{zero:.1f}" y1="{TOP - 4}" x2="{zero:.1f}" '
        f'y2="{bottom:.1f}"/>' + _axis_titles(x_title, y_title, (left + right) / 2, height - 6)
    )
    return _figure(chart_id, title, svg, legend, WIDTH, height)
