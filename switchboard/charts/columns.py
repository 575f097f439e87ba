"""Stacked vertical columns: one column per category, one segment per series
(``stacked_columns``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from switchboard.charts.layout import (
    BLUE,
    FONT,
    TOP,
    WIDTH,
    _axis_titles,
    _count_ticks,
    _empty,
    _figure,
    _join,
    _largest,
    _y_count_axis,
    esc,
    short_number,
    text_width,
)


def stacked_columns(
    frame: pl.DataFrame,
    *,
    category: str,
    series: str,
    value: str,
    chart_id: str,
    title: str,
    x_title: str,
    y_title: str,
    palette: Sequence[str],
) -> str:
    """One column per category (in sorted order), stacked by series; the series are named
    in the legend. Category labels are thinned so that none touches its neighbour."""
    plot_h = 220.0
    cats = frame.select(pl.col(category).cast(pl.String).unique().sort()).to_series()
    if cats.is_empty():
        return _empty(chart_id, title)
    names = frame.select(pl.col(series).cast(pl.String).unique().sort()).to_series().to_list()
    colours = {name: palette[i % len(palette)] for i, name in enumerate(names)}
    totals = frame.group_by(category).agg(pl.col(value).sum())
    y_ticks = _count_ticks(_largest(totals[value]), plot_h)
    left = text_width(max(len(short_number(t)) for t in y_ticks)) + 14
    right = WIDTH - 28
    slot = (right - left) / max(cats.len(), 1)
    y_scale = plot_h / y_ticks[-1]
    base = TOP + plot_h
    height = base + 2 * FONT + 28
    stacked = (
        frame.with_columns(pl.col(category, series).cast(pl.String))
        .join(pl.DataFrame({category: cats}).with_row_index("i"), on=category)
        .sort(["i", series])
        .with_columns(end=pl.col(value).cum_sum().over("i"))
        .with_columns(
            fill=pl.col(series).replace_strict(colours, default=BLUE),
            x=(left + pl.col("i") * slot + slot * 0.15).round(1),
            y=(base - pl.col("end") * y_scale).round(1),
            h=(pl.col(value) * y_scale).round(1),
        )
    )
    rects = _join(
        stacked,
        pl.format(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>',
            "x",
            "y",
            pl.lit(f"{slot * 0.7:.1f}"),
            "h",
            "fill",
            esc(pl.col(category)),
            esc(pl.col(series)),
            value,
        ),
    )
    y_axis = _y_count_axis(y_ticks, y_scale, left, right, base)
    label_chars = int(_largest(cats.str.len_chars())) or 1
    every = max(1, math.ceil((text_width(label_chars) + 12) / slot))
    x_axis = _join(
        pl.DataFrame({category: cats}).with_row_index("i").filter(pl.col("i") % every == 0),
        pl.format(
            '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
            (left + (pl.col("i") + 0.5) * slot).round(1),
            pl.lit(f"{base + FONT + 4:.1f}"),
            esc(pl.col(category)),
        ),
    )
    svg = (
        y_axis + rects + f'<line class="axis" x1="{left:.1f}" y1="{base:.1f}" x2="{right:.1f}" '
        f'y2="{base:.1f}"/>'
        + x_axis
        + _axis_titles(x_title, y_title, (left + right) / 2, height - 6)
    )
    legend = [("box", colours[name], name) for name in names]
    return _figure(chart_id, title, svg, legend, WIDTH, height)
