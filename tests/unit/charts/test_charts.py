"""switchboard.charts: bars, columns, histograms and the ticks and labels they share."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import polars as pl
import pytest

from switchboard import charts


def test_hbar_has_a_label_and_value_per_row_shortened_and_escaped() -> None:
    frame = pl.DataFrame({"name": ["short", "x" * 60, "<b>"], "n": [3, 10, 0]})
    svg = charts.hbar(
        frame,
        label="name",
        value="n",
        chart_id="c",
        title="T",
        x_title="Records",
        y_title="Name",
        lines=[charts.RefLine(8, "the line", "#f00")],
    )
    labels = re.findall(r'class="label"[^>]*>([^<]*)<', svg)
    assert labels == ["short", "x" * (charts.LABEL_CHARS - 1) + "…", "&lt;b&gt;"]
    assert re.findall(r'class="value"[^>]*>([^<]*)<', svg) == ["3", "10", "0"]
    assert "<title>" + "x" * 60 in svg  # the whole label in the tooltip
    assert svg.count("the line") == 2  # named once in the legend, once as the tooltip
    assert re.findall(r'class="axis-title"[^>]*>([^<]*)<', svg) == ["Name", "Records"]


def test_value_ticks_are_round_cover_the_top_and_leave_room_for_their_labels() -> None:
    for top, room in ((166.1, 600.0), (0.51, 700.0), (7.0, 200.0), (123_456.0, 500.0)):
        ticks = charts.value_ticks(top, room)
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) >= 2
        gap = room / (len(ticks) - 1)
        assert gap >= charts.text_width(max(len(charts.short_number(t)) for t in ticks))
    assert charts.value_ticks(7.0, 220.0, gap=30, whole=True) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [charts.short_number(v) for v in (0, 2.5, 950, 2500, 40_000, 1_200_000)] == [
        "0",
        "2.5",
        "950",
        "2.5k",
        "40k",
        "1.2M",
    ]


def test_histogram_counts_every_value_once() -> None:
    values = pl.Series([0.0, 4.9, 5.0, 99.9, 100.0, 250.0, None])
    svg = charts.histogram(
        values,
        chart_id="h",
        title="T",
        x_title="Index",
        y_title="Reps",
        lines=[charts.RefLine(100, "hw", "#f00")],
    )
    bins = {
        (float(a), float(b)): int(n)
        for a, b, n in re.findall(r"<title>([\d.]+) to ([\d.]+): (\d+)</title>", svg)
    }
    assert len(bins) == 26  # 0 to 260 in tens: the largest value is 250
    assert {k: n for k, n in bins.items() if n} == {
        (0, 10): 3,
        (90, 100): 1,
        (100, 110): 1,
        (250, 260): 1,
    }


def test_stacked_columns_thin_their_labels_so_that_none_touches_the_next() -> None:
    days = pl.date_range(datetime(2026, 1, 1), datetime(2026, 3, 31), eager=True)
    frame = pl.DataFrame({"day": days.cast(pl.String), "kind": "a", "n": 1})
    svg = charts.stacked_columns(
        frame,
        category="day",
        series="kind",
        value="n",
        chart_id="s",
        title="T",
        x_title="Day",
        y_title="N",
        palette=["#000"],
    )
    xs = [
        float(x)
        for x in re.findall(
            r'class="tick" x="([\d.]+)" y="[\d.]+" '
            r'text-anchor="middle">2026',
            svg,
        )
    ]
    assert 2 < len(xs) < days.len()
    assert min(b - a for a, b in itertools.pairwise(xs)) >= charts.text_width(10)


def test_diverging_bars_go_left_below_zero_and_right_above() -> None:
    frame = pl.DataFrame({"name": ["over", "under", "<b>"], "d": [7.3, -2.5, 0.0]})
    svg = charts.diverging(
        frame, label="name", value="d", chart_id="c", title="T", x_title="Drift", y_title="Member"
    )
    rects = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    zero = float(re.findall(r'<line class="axis" x1="([\d.]+)"', svg)[0])
    (x_over, w_over), (x_under, w_under), (_, w_none) = [(float(x), float(w)) for x, w in rects]
    assert x_over == zero and x_under == pytest.approx(zero - w_under)
    assert w_over / w_under == pytest.approx(7.3 / 2.5, rel=0.01) and w_none == 0
    assert re.findall(r'class="value"[^>]*>([^<]*)<', svg) == ["7.3", "-2.5", "0.0"]
    assert re.findall(r'text-anchor="(start|end)">-?[\d.]+<', svg) == ["start", "end", "start"]
    assert re.findall(r'class="label"[^>]*>([^<]*)<', svg) == ["over", "under", "&lt;b&gt;"]
    ticks = [float(t) for t in re.findall(r'class="tick"[^>]*>([^<]*)<', svg)]
    assert ticks == sorted(ticks) and ticks[0] == -ticks[-1] and ticks[-1] >= 7.3
    assert "Nothing to show" in charts.diverging(
        frame.head(0), label="name", value="d", chart_id="c", title="T", x_title="x", y_title="y"
    )
