"""The what-if as a shareable page: one HTML file, no script, opens offline
(`render_html`)."""

from __future__ import annotations

import html

import polars as pl

from switchboard.diff.model import _PLACES, PlanDiff

# The page lists this many moves; moves.csv has them all.
PAGE_MOVES = 1000

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:78rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
p.headline{font-size:1.05rem;background:#f3f5f9;padding:.75rem 1rem;border-radius:6px}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border-bottom:1px solid #dde2ea;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f5f9;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.up{color:#a33}td.down{color:#286a3a}p.empty,p.note,dl{color:#5a6372}
dt{font-weight:600;float:left;clear:left;width:10rem}dd{margin-left:10.5rem}
"""

_HEADINGS = {
    "record_type": "record",
    "record_id": "id",
    "record_name": "name",
    "from_owner_id": "from owner",
    "from_owner_name": "",
    "from_queue": "from queue",
    "to_owner_id": "to owner",
    "to_owner_name": "",
    "to_queue": "to queue",
    "from_rule": "from rule",
    "to_rule": "to rule",
    "from_territory_id": "from territory",
    "from_territory_name": "",
    "to_territory_id": "to territory",
    "to_territory_name": "",
}


def _cell(value: object, column: str) -> str:
    if value is None:
        return "<td>—</td>"
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = f"{value:,.{_PLACES}f}" if isinstance(value, float) else f"{value:,}"
        change = column.endswith("_change")
        kind = " up" if change and value > 0 else " down" if change and value < 0 else ""
        return f'<td class="n{kind}">{"+" if change and value > 0 else ""}{text}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def html_table(frame: pl.DataFrame, table_id: str) -> str:
    if frame.is_empty():
        return f'<p class="empty" id="{table_id}">None.</p>'
    head = "".join(
        f"<th>{html.escape(_HEADINGS.get(c, c.replace('_', ' ')))}</th>" for c in frame.columns
    )
    body = "".join(
        "<tr>" + "".join(_cell(v, c) for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
        for row in frame.iter_rows()
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(diff: PlanDiff, *, title: str, facts: dict[str, str]) -> str:
    """The what-if as one page: headline, what was compared (``facts``), per territory,
    per rep and the first PAGE_MOVES moves."""
    listed = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items()
    )
    overflowing = (
        f'<p class="note">Reps who would newly stop taking records (over high '
        f"water): {html.escape(', '.join(diff.newly_overflowing))}</p>"
        if diff.newly_overflowing
        else ""
    )
    shown = diff.moves.head(PAGE_MOVES)
    more = (
        f'<p class="note">The first {PAGE_MOVES:,} of {diff.moves.height:,}; moves.csv '
        "beside this page lists them all.</p>"
        if diff.moves.height > PAGE_MOVES
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="headline" id="headline">{html.escape(diff.headline())}</p>
<dl>{listed}</dl>
<h2>Per territory</h2>
<p class="note">Records in and out of the territory, records moved between its members, and
its available members' workload index: the mean and the largest deviation from it (0 is
perfectly even), before (the current config) and after (the new one).</p>
{html_table(diff.per_territory, "per-territory")}
<h2>Per rep</h2>
<p class="note">Records the rep would gain and lose, and the rep's workload index with each
config's decisions applied (100 = at capacity).</p>
{html_table(diff.per_rep, "per-rep")}
{overflowing}
<h2>Records that would move ({diff.moves.height:,})</h2>
{more}
{html_table(shown, "moves")}
</body></html>
"""
