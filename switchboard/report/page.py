"""The report page: one self-contained HTML document with a table of contents, the
sections of every report, the page's style and the small script that sorts and filters
its tables."""

from __future__ import annotations

import html
from datetime import datetime

from switchboard import charts
from switchboard.report.conflicts import ConflictsReport
from switchboard.report.coverage import CoverageReport
from switchboard.report.routing import CONFLICT_LINES, RoutingReport, minutes
from switchboard.report.sections import (
    conflicts_per_day,
    coverage_section,
    data_table,
    fairness_section,
    kpi_tiles,
    workload_charts,
)
from switchboard.report.territory_fairness import FAIRNESS_WINDOWS, FairnessReport
from switchboard.report.workload import WorkloadReport


def _toc(coverage: bool, fairness: bool = False) -> str:
    entries: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("summary", "Summary", []),
        (
            "routing",
            "Routing log",
            [("routing-rules", "Records by rule"), ("routing-conflicts", "Conflicts")],
        ),
        (
            "workload",
            "Workload balance",
            [
                ("workload-histogram", "Distribution of the workload index"),
                ("workload-top", "Highest and lowest reps"),
                ("workload-teams", "Reps by team"),
                ("workload-fairness", "Fairness per team"),
                ("teams", "Teams table"),
                ("reps", "Reps table"),
            ],
        ),
    ]
    if fairness:
        entries.append(
            (
                "fairness",
                "Territory fairness",
                [
                    ("fairness-territories", "Largest drift per territory"),
                    ("fairness-members", "Members' drift"),
                    ("fairness-week", f"Territories, last {FAIRNESS_WINDOWS[0]} days"),
                    ("fairness-month", f"Territories, last {FAIRNESS_WINDOWS[1]} days"),
                    ("fairness-beyond", "Members beyond the tolerance"),
                ],
            )
        )
    entries += [
        (
            "conflicts",
            "Conflicts and rule gaps",
            [
                ("conflicts-day", "Conflicts per day"),
                ("conflicts-types", "Conflicts by type"),
                ("suggestions", "Suggested rule changes"),
            ],
        )
    ]
    if coverage:
        entries.append(
            (
                "coverage",
                "Territory coverage",
                [
                    ("coverage-overlaps", "Overlapping territories"),
                    ("coverage-gaps", "Records no territory matches"),
                    ("coverage-unstaffed", "Territories without an available member"),
                ],
            )
        )
    items = "".join(
        f"<li><a href='#{target}'>{html.escape(text)}</a>"
        + (
            "<ol>"
            + "".join(f"<li><a href='#{t}'>{html.escape(x)}</a></li>" for t, x in subs)
            + "</ol>"
            if subs
            else ""
        )
        + "</li>"
        for target, text, subs in entries
    )
    return f"<nav id='toc' aria-label='Contents'><h2>Contents</h2><ol>{items}</ol></nav>"


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #3b6ea5;padding-bottom:.2rem;margin-top:2.5rem}
.headline{font-size:1.15rem;background:#eef3f9;padding:1rem;border-radius:6px}
nav#toc{background:#f7f9fc;border:1px solid #dde4ee;border-radius:6px;padding:.2rem 1.2rem}
nav#toc h2{border:0;margin:.6rem 0 .2rem;font-size:1.1rem}nav#toc ol ol{font-size:.9rem}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.kpi{border:1px solid #dde4ee;border-radius:6px;padding:.6rem .9rem;min-width:9rem;
background:#fafcff}.kpi-value{font-size:1.6rem;font-weight:600}
.kpi-label{color:#555;font-size:.85rem}
figure.chart{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.3rem}
svg.plot{display:block;max-width:100%;height:auto;font-family:inherit}
svg.plot text{font-size:12px;fill:#333}svg.plot .axis-title{font-weight:600}
svg.plot .value{paint-order:stroke;stroke:#fff;stroke-width:3px}
svg.plot .grid{stroke:#e6e6e6}svg.plot .axis{stroke:#888}svg.plot .band{fill:#f5f7fa}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;padding:0;
margin:.2rem 0 .5rem;font-size:.85rem}ul.legend li{margin:0}
ul.legend svg{margin-right:.35rem;vertical-align:1px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:.35rem;
vertical-align:-1px;border-radius:2px}
.table-tools{margin:.8rem 0 .3rem;font-size:.9rem}.table-tools .count{color:#666}
.table-wrap{max-height:32rem;overflow:auto;margin-bottom:1rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}
th{background:#f4f4f4;position:sticky;top:0;cursor:pointer;white-space:nowrap}
th.num,td.num{text-align:right}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.empty{color:#777}li{margin:.2rem 0}
"""

# Sorts a table when a header is clicked (numbers largest first, then toggling; empty
# cells last) and filters its rows by the text typed above it.
SCRIPT = """
(function () {
  function key(cell, num) {
    var t = cell.textContent.trim();
    if (t === '' || t === '\\u2014') { return null; }
    if (!num) { return t.toLowerCase(); }
    var v = parseFloat(t.replace(/,/g, ''));
    return isNaN(v) ? null : v;
  }
  document.querySelectorAll('table.data').forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var num = th.getAttribute('data-type') === 'num';
        var now = th.getAttribute('aria-sort');
        var asc = now ? now === 'descending' : !num;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], num), y = key(b.cells[col], num);
          if (x === null) { return y === null ? 0 : 1; }
          if (y === null) { return -1; }
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); }
      });
    });
  });
  document.querySelectorAll('input.filter').forEach(function (input) {
    var id = input.getAttribute('data-table');
    var rows = document.getElementById(id).tBodies[0].rows;
    var count = document.getElementById(id + '-count');
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase(), shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var hit = !q || rows[i].textContent.toLowerCase().indexOf(q) >= 0;
        rows[i].hidden = !hit;
        if (hit) { shown++; }
      }
      count.textContent = shown + ' of ' + rows.length + ' rows';
    });
  });
})();
"""


def render_html(
    routing: RoutingReport,
    workload: WorkloadReport,
    conflicts: ConflictsReport,
    since: datetime,
    latest: datetime | None = None,
    coverage: CoverageReport | None = None,
    fairness: FairnessReport | None = None,
) -> str:
    """One self-contained page: charts as inline SVG (switchboard.charts), a table of
    contents, sortable and filterable tables (a small inline script); nothing to fetch.
    The coverage and territory fairness sections are included when ``coverage`` and
    ``fairness`` are given."""
    window = f"since {since:%Y-%m-%d %H:%M}" + (
        f" (latest run {latest:%Y-%m-%d %H:%M} UTC)" if latest else ""
    )
    headline = " ".join(
        [routing.headline(), workload.headline()]
        + ([fairness.headline()] if fairness is not None else [])
        + [conflicts.headline()]
        + ([coverage.headline()] if coverage is not None else [])
    )
    conflict_items = "".join(f"<li>{html.escape(line)}</li>" for line in routing.conflict_lines)
    routing_tiles = kpi_tiles(
        [
            (f"{routing.records:,}", "records routed"),
            (f"{routing.accounts:,} / {routing.leads:,}", "accounts / leads"),
            (
                minutes(routing.median_minutes) if routing.median_minutes is not None else "—",
                "median time to owner (new records)",
            ),
            (
                minutes(routing.p90_minutes) if routing.p90_minutes is not None else "—",
                "p90 time to owner (new records)",
            ),
            (f"{routing.overflow:,}", "to overflow queues"),
            (f"{routing.fallback:,}", "to the fallback queue"),
        ],
        "routing-kpis",
    )
    statuses = workload.status_counts()
    workload_tiles = kpi_tiles(
        [(f"{workload.per_rep.height:,}", "reps who carry accounts")]
        + [(f"{n:,}", status.replace("_", " ")) for status, n in statuses.items()],
        "workload-kpis",
    )
    rules = charts.hbar(
        routing.by_rule,
        label="rule",
        value="records",
        chart_id="routing-rules",
        title="Records routed by rule",
        x_title="Records routed in the window",
        y_title="Rule",
    )
    wl = workload_charts(workload)
    types = charts.hbar(
        conflicts.by_type,
        label="conflict_type",
        value="conflicts",
        chart_id="conflicts-types",
        title="Conflicts by type",
        x_title="Conflicts in the window",
        y_title="Conflict type",
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard routing report</title>
<style>{STYLE}</style></head><body>
<h1>Switchboard routing report</h1>
<p class="window">Window: {html.escape(window)}</p>
{_toc(coverage is not None, fairness is not None)}
<section id="summary"><h2>Summary</h2>
<p class="headline" id="headline">{html.escape(headline)}</p></section>
<section id="routing"><h2>Routing log</h2>
{routing_tiles}
{rules}
{data_table(routing.by_rule, "table-rules")}
<h3 id="routing-conflicts">Conflicts (first {CONFLICT_LINES})</h3>
{f"<ul>{conflict_items}</ul>" if conflict_items else "<p class='empty'>None.</p>"}
</section>
<section id="workload"><h2>Workload balance</h2>
<p>High-water mark {workload.high_water:g}: at or above it a rep receives no new records until
the index falls below the release mark {workload.release:g}. A rep's status is their
availability when they take no new records (on leave, terminated, deactivated, data problem,
not in HR), else where their index stands against these marks.</p>
{workload_tiles}
{wl["histogram"]}
{wl["top"]}
{wl.get("room", "")}
{wl["teams"]}
{wl["fairness"]}
<h3 id="teams">Teams</h3>
{data_table(workload.teams, "table-teams")}
<h3 id="reps">Reps</h3>
{data_table(workload.per_rep, "table-reps", limit=None)}
</section>
{fairness_section(fairness)}
<section id="conflicts"><h2>Conflicts and rule gaps</h2>
<h3 id="conflicts-day">Conflicts per day</h3>
{conflicts_per_day(conflicts)}
{types}
<h3 id="suggestions">Suggested rule changes</h3>
{
        data_table(
            conflicts.recommendations.select("type", "evidence", "recommendation"),
            "table-suggestions",
        )
    }
<h3>By type</h3>
{data_table(conflicts.by_type, "table-conflict-types")}
<h3>By resolution</h3>
{data_table(conflicts.by_resolution, "table-resolutions")}
</section>
{coverage_section(coverage)}
<script>{SCRIPT}</script>
</body></html>
"""
