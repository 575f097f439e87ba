"""A webhook outage through the command line: the run publishes, says its deliveries are
pending and exits 5; once the webhook recovers, re-running the unchanged export delivers
every held-back message exactly once and exits 0, and so would any later run, even one
that then fails."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from flows.hourly_routing import hourly_routing
from switchboard import pipeline
from switchboard.blockkit import escape
from switchboard.cli import EXIT_PENDING, app
from switchboard.config import DEFAULT_CONFIG_PATH
from switchboard.messages import DIGEST_TYPES
from tests.e2e.conftest import AS_OF, with_one_new_account
from tests.slack_blocks import texts, validate
from tests.webhook_server import Sink, webhook_sink

pytestmark = pytest.mark.e2e
runner = CliRunner()


def q(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_webhook_outage_exits_5_and_the_unchanged_export_delivers_it_once(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load(Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8"))
    data["sinks"]["webhook"].update(timeout_seconds=0.5, max_attempts=2, backoff_seconds=0.01)
    data["messages"]["record_url"] = "https://crm.example.com/{id}"
    config = tmp_path / "routing.yml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    wh, outbox = tmp_path / "w.duckdb", tmp_path / "outbox"
    hourly = [
        "run",
        "hourly",
        "--snapshot",
        str(org),
        "--warehouse",
        str(wh),
        "--outbox",
        str(outbox),
        "--config",
        str(config),
        "--as-of",
        AS_OF.isoformat(),
    ]
    retry = ["publish", "--retry", "--warehouse", str(wh), "--config", str(config)]

    with webhook_sink(Sink(script=[500])) as down:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", down.url)
        first = runner.invoke(app, hourly)
        still_down = runner.invoke(app, retry)
    assert first.exit_code == EXIT_PENDING, first.output
    (line,) = first.stderr.strip().splitlines()
    assert line.startswith("deliveries pending:") and "to the webhook" in line
    assert "last error: HTTP 500" in line
    assert down.received == [] and down.attempts > 0
    # Published all the same: decisions recorded, outbox files written.
    ((run_id, status),) = q(wh, "select run_id, status from routing.runs")
    assert status == "published"
    folder = outbox / run_id
    with (folder / "reassignments.csv").open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) > 0
    assert "## Deliveries pending" in (folder / "summary.md").read_text(encoding="utf-8")
    held_back = {
        str(k)
        for (k,) in q(
            wh,
            "select message_key from routing.outbox_messages "
            "where sink = 'webhook' and status = 'pending'",
        )
    }
    assert f"webhook|summary|{run_id}" in held_back
    assert any(k.startswith(f"webhook|alerts|{run_id}|") for k in held_back)
    assert still_down.exit_code == EXIT_PENDING, still_down.output
    shutil.copyfile(wh, tmp_path / "copy.duckdb")  # for the failing run below

    with webhook_sink(Sink()) as healthy:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", healthy.url)
        second = runner.invoke(app, hourly)  # the same export, unchanged
        third = runner.invoke(app, hourly)
        nothing_left = runner.invoke(app, retry)
    assert second.exit_code == 0, second.output
    assert "deliveries pending" not in second.stderr
    assert "snapshot unchanged since run" in second.stdout
    assert Counter(str(m["key"]) for m in healthy.received) == Counter(held_back), (
        "every held-back message delivered exactly once"
    )
    # One Block Kit message per recipient of the run's alerts, and the run summary.
    recipients = q(
        wh,
        f"select distinct recipient_id from routing.alerts where type in {DIGEST_TYPES} order by 1",
    )
    assert len(recipients) >= 2
    assert sorted(str(m["key"]) for m in healthy.received) == sorted(
        [f"webhook|alerts|{run_id}|{r}" for (r,) in recipients] + [f"webhook|summary|{run_id}"]
    )
    for message in healthy.received:
        assert validate(message["body"]) == [], message["key"]
    # Records by name, linked: a manager's unowned accounts as dim_accounts names them.
    ((manager, account, name),) = q(
        wh,
        "select a.recipient_id, a.record_id, d.account_name "
        "from routing.alerts a join marts.dim_accounts d "
        "on a.record_id = d.account_id "
        "where a.type = 'unowned_account' "
        "order by lower(d.account_name), a.record_id limit 1",
    )
    body = next(
        m["body"] for m in healthy.received if m["key"] == f"webhook|alerts|{run_id}|{manager}"
    )
    assert f"<https://crm.example.com/{account}|{escape(name)}>" in "\n".join(texts(body))
    assert third.exit_code == 0 and nothing_left.exit_code == 0
    assert "no message is pending" in nothing_left.stdout
    assert q(
        wh,
        "select count(*) from routing.outbox_messages where status = 'pending' "
        "and sink = 'webhook'",
    ) == [(0,)]
    assert "Deliveries pending" not in (folder / "summary.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in outbox.iterdir()) == [run_id]

    # A later run delivers them before anything else, so even one that then fails (here:
    # its export cannot be read) gets them through.
    copy = tmp_path / "copy.duckdb"
    newer = with_one_new_account(org, tmp_path / "newer")

    def broken(*_: object) -> None:
        raise SystemError("export unreadable")

    monkeypatch.setattr(pipeline, "ingest", broken)
    with webhook_sink(Sink()) as healthy:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", healthy.url)
        with pytest.raises(SystemError, match="export unreadable"):
            hourly_routing(
                snapshot=str(newer),
                warehouse=str(copy),
                outbox=str(outbox),
                config=str(config),
                as_of=AS_OF.isoformat(),
            )
    assert Counter(str(m["key"]) for m in healthy.received) == Counter(held_back)
