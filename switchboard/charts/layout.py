"""The charts' shared layout: sizes, escaping and number formats, tick spacing, the axes,
reference lines and the ``<figure>`` wrapper every chart kind returns.

Text widths are estimated from a generous average glyph width, so tick labels and category
labels are placed without overlapping and without measuring fonts.
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
