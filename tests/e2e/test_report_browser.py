"""The HTML report in headless Chromium, at the demo org's size (the routed test org) and at
the 1M-account shape (1,000 reps, 200 territories, made in the marts' shapes): the charts'
labels, no two texts overlapping (bounding boxes from the DOM), reps' statuses, the table
of contents, sorting and filtering a table. Screenshots land in each test's tmp folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from switchboard import report
from switchboard.config import RoutingConfig, load_config
from switchboard.report.sections import FAIRNESS_TERRITORIES, TOP_REPS
from tests.report_shapes import AWAY, large_org

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Per chart: its label texts, and every pair of texts (SVG text, legend entries, caption)
# whose boxes overlap by more than half a pixel both ways, and texts outside their SVG.
LAYOUT = """() => Array.from(document.querySelectorAll('figure.chart:has(svg.plot)')).map(
    (fig) => {
  const svg = fig.querySelector('svg.plot').getBoundingClientRect();
  const boxes = Array.from(fig.querySelectorAll(
      'svg.plot text, ul.legend li, figcaption')).map((el) => {
    const r = el.getBoundingClientRect();
    return {text: el.textContent, svg: el.tagName === 'text',
            left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 0.5 && h > 0.5) { overlaps.push([a.text, b.text]); }
    }
  }
  const outside = boxes.filter((b) => b.svg && (b.left < svg.left - 0.5 ||
      b.right > svg.right + 0.5 || b.top < svg.top - 0.5 || b.bottom > svg.bottom + 0.5))
    .map((b) => b.text);
  return {id: fig.id, caption: fig.querySelector('figcaption').textContent,
          labels: Array.from(fig.querySelectorAll('text.label')).map((t) => t.textContent),
          ticks: Array.from(fig.querySelectorAll('text.tick')).map((t) => t.textContent),
          dots: fig.querySelectorAll('circle').length,
          texts: boxes.length, overlaps: overlaps, outside: outside};
})"""

BROKEN_LINKS = """() => Array.from(document.querySelectorAll('nav#toc a')).filter(
  (a) => !document.getElementById(a.getAttribute('href').slice(1))).map((a) => a.href)"""

COLUMN = """([table, name]) => {
  const t = document.getElementById(table);
  const col = Array.from(t.tHead.rows[0].cells).findIndex(
    (th) => th.textContent.replace(/[\\u25B2\\u25BC]/g, '').trim() === name);
  return Array.from(t.tBodies[0].rows).filter((r) => !r.hidden).map(
    (r) => r.cells[col].textContent);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent: install the Debian package `chromium` "
            "(.ci/run does as root) to check the HTML report in a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, page_html: str, folder: Path) -> tuple[Any, list[str]]:
    """The page loaded from a file, and its script errors and requests for anything but
    the file (the page must need nothing else); a screenshot of the whole page is saved in
    ``folder``."""
    path = folder / "report.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            errors.append(f"request {request.url}") if not request.url.startswith("file:") else None
        ),
    )
    page.goto(path.as_uri())
    page.screenshot(path=str(folder / "report.png"), full_page=True)
    return page, errors


def charts_of(page: Any) -> dict[str, dict[str, Any]]:
    found = {chart["id"]: chart for chart in page.evaluate(LAYOUT)}
    for chart in found.values():
        assert chart["texts"] > 0
        assert chart["overlaps"] == [], (chart["id"], chart["overlaps"][:5])
        assert chart["outside"] == [], (chart["id"], chart["outside"][:5])
    return found


def column(page: Any, table: str, name: str) -> list[str]:
    return list(page.evaluate(COLUMN, [table, name]))


def check_sorting_and_filter(page: Any) -> None:
    """Click the reps table's workload index header: largest first, then smallest first
    (reps without an index last both times); filter it by a status."""
    header = page.locator("#table-reps th", has_text="workload index")
    header.click()
    values = [float(v) for v in column(page, "table-reps", "workload index") if v != "—"]
    assert values == sorted(values, reverse=True) and len(values) > 1
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    values = [float(v) for v in column(page, "table-reps", "workload index") if v != "—"]
    assert values == sorted(values) and header.get_attribute("aria-sort") == "ascending"
    page.locator("#table-reps th", has_text="rep name").click()
    names = column(page, "table-reps", "rep name")
    assert names == sorted(names, key=str.lower)
    page.locator("input.filter[data-table='table-reps']").fill("terminated")
    statuses = column(page, "table-reps", "status")
    assert statuses and set(statuses) == {"terminated"}
    assert page.locator("#table-reps-count").inner_text().startswith(f"{len(statuses)} of ")


def test_demo_org_report_in_chromium(browser: Any, routed_org: Path, tmp_path: Path) -> None:
    data = report.load(routed_org)
    routing, workload, conflicts = report.build_all(data, load_config())
    assert data.fairness is not None
    fairness = report.fairness_report(data.fairness)
    page, errors = open_page(
        browser,
        report.render_html(
            routing,
            workload,
            conflicts,
            data.since,
            data.latest,
            coverage=report.coverage_report(data),
            fairness=fairness,
        ),
        tmp_path,
    )
    assert errors == []
    charts = charts_of(page)
    assert set(charts) >= {
        "routing-rules",
        "workload-histogram",
        "workload-top",
        "workload-teams",
        "workload-fairness",
        "conflicts-types",
        "fairness-territories",
        "fairness-members",
    }
    picked = fairness.window(7).filter(pl.col("records") > 0)
    assert (
        charts["fairness-territories"]["labels"]
        == picked["territory_name"].head(FAIRNESS_TERRITORIES).to_list()
    )
    assert "0" in charts["fairness-members"]["ticks"]  # bars either side of zero
    drifts = [float(v) for v in column(page, "table-fairness-week", "max abs drift")]
    assert drifts == sorted(drifts, reverse=True)  # the worst territories first
    assert charts["routing-rules"]["labels"] == routing.by_rule["rule"].to_list()
    indexed = workload.per_rep.filter(pl.col("workload_index").is_not_null())
    shown = indexed.height if indexed.height <= 2 * TOP_REPS else TOP_REPS
    assert len(charts["workload-top"]["labels"]) == shown
    assert charts["workload-teams"]["labels"] == sorted(set(indexed["team"]))
    assert charts["workload-teams"]["dots"] == indexed.height
    assert len(charts["workload-fairness"]["labels"]) == workload.teams.height
    # one day of conflicts is a number per type, not a one-bar chart
    assert "conflicts-per-day" not in charts
    tiles = page.locator("#conflicts-day-tiles .kpi-label").all_inner_texts()
    assert data.latest is not None and tiles[0] == f"conflicts on {data.latest:%Y-%m-%d}"
    assert page.evaluate(BROKEN_LINKS) == []
    assert page.locator("nav#toc a").count() >= 15

    # every status the table shows is the rep's availability when not available
    con = duckdb.connect(str(routed_org), read_only=True)
    try:
        availability = dict(
            con.execute(
                "select rep_id, availability from marts.dim_reps where carries_accounts"
            ).fetchall()
        )
    finally:
        con.close()
    shown_status = dict(
        zip(column(page, "table-reps", "rep id"), column(page, "table-reps", "status"), strict=True)
    )
    assert set(shown_status) == set(availability)
    for rep_id, status in shown_status.items():
        if availability[rep_id] != "available":
            assert status == availability[rep_id], rep_id
        else:
            assert status in {"ok", "above release", "over capacity", "no index"}, rep_id
    assert shown_status["REP-LEAVER"] == "terminated" and shown_status["REP-LEAVE"] == "on_leave"
    check_sorting_and_filter(page)
    page.close()


def test_million_account_shape_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    data = large_org()
    routing, workload, conflicts = report.build_all(data, RoutingConfig())
    page_html = report.render_html(
        routing, workload, conflicts, data.since, data.latest, coverage=report.coverage_report(data)
    )
    assert len(page_html.encode()) < 1_000_000
    page, errors = open_page(browser, page_html, tmp_path)
    assert errors == []
    charts = charts_of(page)
    assert len(charts["workload-top"]["labels"]) == TOP_REPS
    assert len(charts["workload-room"]["labels"]) == TOP_REPS
    assert "of 1,000" in charts["workload-top"]["caption"]
    assert charts["workload-histogram"]["caption"].startswith("Workload index of all 1,000")
    assert len(charts["workload-teams"]["labels"]) == 24
    assert charts["workload-teams"]["dots"] == 1000
    # seven days of conflicts: a stacked chart with a label per day
    assert charts["conflicts-per-day"]["ticks"][-7:] == [f"2026-11-{d}" for d in range(17, 24)]
    assert page.evaluate(BROKEN_LINKS) == []
    statuses = column(page, "table-reps", "status")
    assert len(statuses) == 1000
    for availability, reps in AWAY.items():
        assert statuses.count(availability) == reps
    assert (
        statuses.count("over capacity")
        == workload.per_rep.filter(pl.col("status") == "over capacity").height
        > 0
    )
    check_sorting_and_filter(page)
    page.close()
