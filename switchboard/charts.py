"""Charts for the HTML report as inline SVG, drawn from Polars frames.

No charting library and no JavaScript: each function returns one ``<figure class="chart">``
(caption, an HTML legend when there is one, the SVG) that any browser shows offline. The
layout is computed here, so text never overlaps: category labels sit one per row (long
ones are shortened, the full text is in the tooltip), tick labels are spaced by their
estimated width, reference lines (the high-water and release marks) carry no text of
their own and are named once, in the legend, and every chart has both axis titles.
Elements are generated with Polars expressions, one string per row, joined once.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

WIDTH = 960
FONT = 12  # px, the size of every text in a chart (report.page.STYLE sets it)
CHAR = 0.66 * FONT  # a generous average glyph width, for layout only
ROW = 20  # px per category row of a horizontal chart
BAR = 14  # px, a horizontal bar's thickness
TOP = 30  # px above the plot: the y-axis title's band
LABEL_CHARS = 40  # longest category label shown whole
BLUE = "#3b6ea5"


@dataclass(frozen=True)
class RefLine:
    """A vertical line at ``value`` on the value axis, named once in the legend."""

    value: float
    label: str
    color: str
    dash: str = "6 4"


# ---------------------------------------------------------------- helpers


def esc(expr: pl.Expr) -> pl.Expr:
    """HTML-escape a string expression (for text and attribute values)."""
    return (
        expr.cast(pl.String)
        .fill_null("—")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
    )


def shorten(expr: pl.Expr, chars: int) -> pl.Expr:
    """At most ``chars`` characters: longer text is cut and ends in an ellipsis."""
    text = expr.cast(pl.String).fill_null("—")
    return (
        pl.when(text.str.len_chars() > chars)
        .then(pl.concat_str(text.str.slice(0, chars - 1), pl.lit("…")))
        .otherwise(text)
    )


def fixed(expr: pl.Expr, decimals: int) -> pl.Expr:
    """A number as text with exactly ``decimals`` decimals (0.50, 96.0, 12); null as —."""
    number = (
        expr.round(decimals).cast(pl.Decimal(38, decimals))
        if decimals
        else expr.round(0).cast(pl.Int64)
    )
    return number.cast(pl.String).fill_null("—")


def text_width(chars: int) -> float:
    return chars * CHAR


def nice_step(span: float, max_ticks: int, *, whole: bool = False) -> float:
    """The smallest step of 1, 2, 2.5 or 5 times a power of ten that cuts ``span`` into at
    most ``max_ticks`` intervals; ``whole``: a whole number (1, 2 or 5 times a power of ten,
    at least 1)."""
    if span <= 0:
        return 1.0
    raw = span / max(max_ticks, 1)
    if whole and raw <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0) if whole else (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * power >= raw - 1e-12:
            return m * power
    return 10.0 * power


def short_number(value: float) -> str:
    """A tick label of at most six characters: 950, 2.5k, 40k, 1.2M."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g}k"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.2g}k" if value % 100 == 0 else f"{value:.0f}"
    return f"{value:g}"


def value_ticks(
    top: float, room: float, *, gap: float = text_width(6) + 16, whole: bool = False
) -> list[float]:
    """Ticks from 0 to at least ``top`` over ``room`` px, at least ``gap`` px apart (on a
    horizontal axis: a six-character label's width and a margin, so labels cannot touch)."""
    max_ticks = max(2, int(room // gap))
    step = nice_step(top, max_ticks, whole=whole)
    count = max(1, math.ceil(top / step - 1e-9))
    return [round(i * step, 10) for i in range(count + 1)]


def _largest(values: pl.Series) -> float:
    """The largest value of a numeric series; 0 when it has none."""
    top = values.drop_nulls().max()
    return float(top) if isinstance(top, int | float) else 0.0


def _join(frame: pl.DataFrame, expr: pl.Expr) -> str:
    if frame.is_empty():
        return ""
    return str(frame.select(expr.str.join("")).item())


def _figure(
    chart_id: str,
    title: str,
    svg: str,
    legend: Sequence[tuple[str, str, str]],
    width: float,
    height: float,
) -> str:
    """legend: (kind, colour, text), kind ``line`` (a dashed line) or ``box`` (a swatch)."""
    items = "".join(
        f'<li><svg width="24" height="10" aria-hidden="true"><line x1="0" y1="5" x2="24" '
        f'y2="5" stroke="{colour}" stroke-width="2" stroke-dasharray="{_dash(kind)}"/>'
        f"</svg>{html.escape(text)}</li>"
        if kind.startswith("line")
        else f'<li><span class="swatch" style="background:{colour}"></span>{html.escape(text)}</li>'
        for kind, colour, text in legend
    )
    legend_html = f'<ul class="legend">{items}</ul>' if items else ""
    return (
        f'<figure class="chart" id="{chart_id}"><figcaption>{html.escape(title)}'
        f"</figcaption>{legend_html}"
        f'<svg class="plot" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{html.escape(title)}">{svg}</svg>'
        "</figure>"
    )


def _empty(chart_id: str, title: str) -> str:
    """A chart with nothing to draw: its caption and a line saying so."""
    return (
        f'<figure class="chart" id="{chart_id}"><figcaption>{html.escape(title)}'
        "</figcaption><p class='empty'>Nothing to show.</p></figure>"
    )


def _dash(kind: str) -> str:
    return kind.partition(":")[2] or "none"


def line_legend(lines: Sequence[RefLine]) -> list[tuple[str, str, str]]:
    return [(f"line:{line.dash}", line.color, line.label) for line in lines]


def _axis_titles(x_title: str, y_title: str, x_mid: float, x_title_y: float) -> str:
    return (
        f'<text class="axis-title" x="0" y="{FONT + 2}">{html.escape(y_title)}</text>'
        f'<text class="axis-title" x="{x_mid:.1f}" y="{x_title_y:.1f}" '
        f'text-anchor="middle">{html.escape(x_title)}</text>'
    )


def _x_value_axis(ticks: list[float], scale: float, left: float, top: float, bottom: float) -> str:
    """Grid lines and tick labels of a horizontal value axis."""
    parts = []
    for tick in ticks:
        x = left + tick * scale
        parts.append(
            f'<line class="grid" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" '
            f'y2="{bottom:.1f}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + FONT + 4:.1f}" '
            f'text-anchor="middle">{short_number(tick)}</text>'
        )
    return "".join(parts)


def _ref_lines(
    lines: Sequence[RefLine], scale: float, left: float, top: float, bottom: float
) -> str:
    return "".join(
        f'<line class="ref" x1="{left + line.value * scale:.1f}" y1="{top - 4:.1f}" '
        f'x2="{left + line.value * scale:.1f}" y2="{bottom:.1f}" stroke="{line.color}" '
        f'stroke-width="2" stroke-dasharray="{line.dash}"><title>{html.escape(line.label)}'
        "</title></line>"
        for line in lines
    )


def _y_count_axis(ticks: list[float], scale: float, left: float, right: float, base: float) -> str:
    """Grid lines and tick labels of a vertical count axis."""
    return "".join(
        f'<line class="grid" x1="{left:.1f}" y1="{base - t * scale:.1f}" x2="{right:.1f}" '
        f'y2="{base - t * scale:.1f}"/><text class="tick" x="{left - 8:.1f}" '
        f'y="{base - t * scale + 4:.1f}" text-anchor="end">{short_number(t)}</text>'
        for t in ticks
    )


def _count_ticks(top: float, room: float) -> list[float]:
    """Whole-number ticks for a count axis, up to at least ``top``."""
    return value_ticks(max(top, 1.0), room, gap=2 * FONT + 6, whole=True)


def _widest(frame: pl.DataFrame, shown: pl.Expr, number: pl.Expr) -> tuple[int, int]:
    """The characters of the longest shown label and of the longest printed value (at
    least 1 each): what a bar chart keeps room for on either side of its bars."""
    widths = frame.select(
        shown.str.len_chars().alias("label"), number.str.len_chars().alias("value")
    )
    return (int(_largest(widths["label"])) or 1, int(_largest(widths["value"])) or 1)


# ---------------------------------------------------------------- charts


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
