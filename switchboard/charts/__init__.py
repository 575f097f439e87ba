"""Charts for the HTML report as inline SVG, drawn from Polars frames.

No charting library and no JavaScript: each function returns one ``<figure class="chart">``
(caption, an HTML legend when there is one, the SVG) that any browser shows offline. The
layout is computed here, so text never overlaps: category labels sit one per row (long
ones are shortened, the full text is in the tooltip), tick labels are spaced by their
estimated width, reference lines (the high-water and release marks) carry no text of
their own and are named once, in the legend, and every chart has both axis titles.
Elements are generated with Polars expressions, one string per row, joined once.
"""

from switchboard.charts.bars import diverging, hbar
from switchboard.charts.columns import stacked_columns
from switchboard.charts.distributions import histogram, strip
from switchboard.charts.layout import (
    BAR,
    BLUE,
    CHAR,
    FONT,
    LABEL_CHARS,
    ROW,
    TOP,
    WIDTH,
    RefLine,
    esc,
    fixed,
    line_legend,
    nice_step,
    short_number,
    shorten,
    text_width,
    value_ticks,
)

__all__ = [
    "BAR",
    "BLUE",
    "CHAR",
    "FONT",
    "LABEL_CHARS",
    "ROW",
    "TOP",
    "WIDTH",
    "RefLine",
    "diverging",
    "esc",
    "fixed",
    "hbar",
    "histogram",
    "line_legend",
    "nice_step",
    "short_number",
    "shorten",
    "stacked_columns",
    "strip",
    "text_width",
    "value_ticks",
]
