"""`switchboard docs`: dbt's documentation site of a routed warehouse, as one static page."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import EXIT_INPUT, app, reports
from tests.e2e.conftest import copy_warehouse

pytestmark = pytest.mark.e2e
runner = CliRunner()


def test_docs_writes_the_static_site_and_opens_nothing_with_no_open(
    routed_org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: bool(opened.append(url)))
    asked: list[bool] = []
    may_open = reports._may_open_browser  # at a terminal, outside CI (tests/unit)
    monkeypatch.setattr(
        reports,
        "_may_open_browser",
        lambda no_open: bool(asked.append(no_open)) or may_open(no_open),
    )
    warehouse = copy_warehouse(routed_org, tmp_path / "wh")
    out = tmp_path / "site"
    result = runner.invoke(
        app, ["docs", "--warehouse", str(warehouse), "--out", str(out), "--no-open"]
    )
    assert result.exit_code == 0, result.output
    page = out / "index.html"
    assert f"dbt docs of {warehouse}: {page.resolve()}" in result.output
    assert list(out.iterdir()) == [page]
    text = page.read_text(encoding="utf-8")
    # The static page carries the manifest and the warehouse's catalog inline.
    assert '"MANIFEST.JSON INLINE DATA"' not in text and '"CATALOG.JSON INLINE DATA"' not in text
    assert "model.switchboard.dim_reps" in text and "workload_index" in text
    assert asked == [True] and opened == []

    missing = runner.invoke(
        app, ["docs", "--warehouse", str(tmp_path / "none.duckdb"), "--no-open"]
    )
    assert missing.exit_code == EXIT_INPUT
    assert "is not a file" in missing.stderr
