"""A webhook sink that never answers must not stop a real hourly run nor lose a message:
the next run delivers what it left pending, once."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from switchboard.config import DEFAULT_CONFIG_PATH
from tests.e2e.conftest import q, with_one_new_account
from tests.e2e.test_reliability import run_hourly
from tests.webhook_server import Sink, webhook_sink

pytestmark = pytest.mark.e2e


def fast_webhook_config(tmp_path: Path) -> Path:
    """The shipped rules with a webhook that gives up quickly."""
    data = yaml.safe_load(Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8"))
    data["sinks"]["webhook"].update(timeout_seconds=0.3, max_attempts=2, backoff_seconds=0.01)
    path = tmp_path / "routing.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_silent_webhook_leaves_messages_pending_for_the_next_run(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = tmp_path / "w.duckdb"
    config = str(fast_webhook_config(tmp_path))
    with webhook_sink(Sink(script=["hang"], hang_seconds=2.0)) as silent:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", silent.url)
        first = run_hourly(org, tmp_path, config=config)
    assert first.status == "published"
    assert silent.received == [] and silent.attempts >= 1
    hooks = q(
        wh,
        "select message_key, status, attempts, last_error "
        "from routing.outbox_messages where sink = 'webhook'",
    )
    assert hooks.height > 0 and set(hooks["status"]) == {"pending"}
    tried = hooks.filter(pl.col("attempts") > 0)
    assert tried.height >= 1 and tried["last_error"].is_not_null().all()
    earlier = set(hooks["message_key"])
    # The files were not held hostage by the webhook.
    assert (tmp_path / "outbox" / first.run_id / "reassignments.csv").is_file()

    snapshot = with_one_new_account(org, tmp_path / "snap")
    with webhook_sink(Sink(script=[200])) as healthy:
        monkeypatch.setenv("SWITCHBOARD_WEBHOOK_URL", healthy.url)
        second = run_hourly(snapshot, tmp_path, config=config)
    assert second.status == "published" and second.run_id != first.run_id
    keys = [str(m["key"]) for m in healthy.received]
    assert len(keys) == len(set(keys)), "a message was delivered twice"
    assert earlier <= set(keys), "an earlier pending message was never delivered"
    state = q(
        wh,
        "select status, count(*) n from routing.outbox_messages "
        "where sink = 'webhook' group by status",
    )
    assert state.rows() == [("sent", len(keys))]
    new = q(wh, "select run_id from routing.decisions where record_id = 'ACC-RELIABILITY-NEW'")
    assert new["run_id"].to_list() == [second.run_id]
