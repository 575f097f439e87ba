"""A run on an export that is already published answers from the run ledger: no Prefect,
no dbt, no Great Expectations; anything else still runs the flow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import app, routing
from tests.e2e.conftest import AS_OF, copy_warehouse

pytestmark = pytest.mark.e2e

runner = CliRunner()


class FlowStarted(Exception):
    """The command went past the ledger and started the flow."""


def _no_flow(call: object) -> object:
    raise FlowStarted


def test_an_unchanged_export_is_answered_without_starting_the_flow(
    org: Path, routed_org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = copy_warehouse(routed_org, tmp_path / "wh")
    monkeypatch.setattr(routing, "_run_flow", _no_flow)
    args = [
        "run",
        "hourly",
        "--snapshot",
        str(org),
        "--warehouse",
        str(warehouse),
        "--outbox",
        str(tmp_path / "outbox"),
        "--as-of",
        AS_OF.isoformat(),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "snapshot unchanged since run" in result.output
    assert "nothing new" in result.output

    # Another export, or another mode on the same export, is work: the flow starts.
    changed = tmp_path / "changed"
    shutil.copytree(org, changed)
    with (changed / "accounts.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"ACC-FAST-NEW,Fast Newco,{AS_OF.isoformat()},,,,,,,,,,\n")
    for other in (
        ["run", "hourly", "--snapshot", str(changed)],
        ["run", "departure", "--snapshot", str(org), "--rep", "REP-0001"],
    ):
        result = runner.invoke(
            app,
            [
                *other,
                "--warehouse",
                str(warehouse),
                "--outbox",
                str(tmp_path / "outbox"),
                "--as-of",
                AS_OF.isoformat(),
            ],
        )
        assert isinstance(result.exception, FlowStarted), result.output
