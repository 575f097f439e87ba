"""The notification sinks through the outbox: one message per run and recipient on each
sink, each alert announced once per sink, names from the marts; e-mail and Microsoft
Teams delivered through apprise to servers on 127.0.0.1 (SMTP, and HTTPS for the Teams
workflow URL), with the outbox's retries and exactly-once."""

from __future__ import annotations

import json
import socket
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard import notify, publish, warehouse
from switchboard.alerts import ALERTS
from switchboard.config import ConfigError, RoutingConfig, load_config
from switchboard.config.sinks import Email, Messages, Sinks, Teams, Webhook
from switchboard.summary import RunSummary, delivery_line
from tests.mail_server import MailServer, smtp_server
from tests.slack_blocks import validate
from tests.webhook_server import Sink, webhook_sink

AS_OF = datetime(2026, 11, 23, 9, 0)
FAST = {"timeout_seconds": 2, "max_attempts": 2, "backoff_seconds": 0.01}
SALESFORCE = "https://acme.my.salesforce.com/{id}"
FROM = "switchboard@example.com"


def alert(
    run: str,
    kind: str,
    recipient: str,
    record: str | None,
    rep: str | None = None,
    record_type: str = "account",
) -> dict[str, object]:
    return {
        "run_id": run,
        "type": kind,
        "severity": "high",
        "recipient_id": recipient,
        "record_type": record_type if record else None,
        "record_id": record,
        "rep_id": rep,
        "message": f"{kind} {record}",
        "detail": "what happened",
        "alert_key": f"{kind}|{record}|{rep}",
    }


def alerts(run: str, *rows: tuple[str, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame([alert(run, *row) for row in rows], schema=ALERTS)


RUN_1 = alerts(
    "r1",
    ("unowned_account", "MGR", "ACC-1"),
    ("pipeline_handoff", "MGR", "ACC-2"),
    ("rule_gap", "revops", "ACC-3"),
    ("routing_conflict", "revops", "ACC-1"),
)


def summary(run: str) -> RunSummary:
    return RunSummary(
        run_id=run,
        mode="hourly",
        status="published",
        records=3,
        accounts=3,
        by_rule={"territory": 3},
    )


@pytest.fixture
def con(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A warehouse with the marts messages read names from."""
    connection = warehouse.connect(tmp_path / "w.duckdb")
    publish.ensure_tables(connection)
    connection.execute(
        "create table marts.dim_accounts as select * from (values "
        "('ACC-1', 'Acme & Co'), ('ACC-2', 'Globex'), ('ACC-3', 'Initech')) "
        "t(account_id, account_name)"
    )
    connection.execute(
        "create table marts.dim_reps as select * from (values "
        "('MGR', 'Maria Lopez', 'maria@example.com', 'U0MARIA1')) "
        "t(rep_id, rep_name, email, slack_user_id)"
    )
    yield connection
    connection.close()


def settings(
    webhook: str | None = None,
    email: str | None = None,
    teams: str | None = None,
    **messages: object,
) -> RoutingConfig:
    return RoutingConfig(
        sinks=Sinks(
            webhook=Webhook(url=webhook, **FAST),
            email=Email(url=email, **FAST),
            teams=Teams(url=teams, **FAST),
        ),
        messages=Messages.model_validate(messages),
    )


def queued(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [
        (str(k), str(s))
        for k, s in con.execute(
            "select message_key, status from routing.outbox_messages where sink <> 'file' "
            "order by message_key"
        ).fetchall()
    ]


def queue(
    con: duckdb.DuckDBPyConnection, run: str, frame: pl.DataFrame, config: RoutingConfig
) -> int:
    return notify.queue(
        con,
        run_id=run,
        mode="hourly",
        as_of=AS_OF,
        alerts=frame,
        summary=summary(run),
        config=config,
        outbox=Path("outbox"),
    )


def test_one_message_per_recipient_per_sink_and_each_alert_announced_once(con) -> None:  # type: ignore[no-untyped-def]
    config = settings(
        webhook="http://127.0.0.1:9/hook",
        email=f"mailto://127.0.0.1?from={FROM}",
        teams="workflows://127.0.0.1/wf/sig",
    )
    assert queue(con, "r1", RUN_1, config) == 8
    assert queued(con) == [
        (key, "pending")
        for key in (
            "email|alerts|r1|MGR",
            "email|alerts|r1|revops",  # no e-mailed summary by default
            "teams|alerts|r1|MGR",
            "teams|alerts|r1|revops",
            "teams|summary|r1",
            "webhook|alerts|r1|MGR",
            "webhook|alerts|r1|revops",
            "webhook|summary|r1",
        )
    ]
    assert queue(con, "r1", RUN_1, config) == 0  # the same run again (resumed): nothing new

    # The next run raises two of the same alerts and one new one: only the new one is sent.
    run_2 = alerts(
        "r2",
        ("unowned_account", "MGR", "ACC-1"),
        ("rule_gap", "revops", "ACC-3"),
        ("unowned_account", "MGR", "ACC-9"),
    )
    queue(con, "r2", run_2, config)
    second = {k for k, _ in queued(con) if "|r2" in k}
    assert second == {
        "webhook|alerts|r2|MGR",
        "email|alerts|r2|MGR",
        "teams|alerts|r2|MGR",
        "webhook|summary|r2",
        "teams|summary|r2",
    }
    payload = json.loads(
        con.execute(
            "select payload from routing.outbox_messages "
            "where message_key = 'webhook|alerts|r2|MGR'"
        ).fetchone()[0]
    )
    assert validate(payload) == []
    assert payload["blocks"][0]["text"]["text"] == "Switchboard: 1 alert for Maria Lopez"
    carried = con.execute(
        "select sink, count(*) from routing.message_alerts group by sink order by sink"
    ).fetchall()
    assert carried == [("email", 4), ("teams", 4), ("webhook", 4)]


def test_no_sink_configured_queues_nothing(con) -> None:  # type: ignore[no-untyped-def]
    assert queue(con, "r1", RUN_1, settings()) == 0
    assert queued(con) == []


def test_names_come_from_the_marts_and_a_warehouse_without_slack_ids_still_works(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("alter table marts.dim_reps drop column slack_user_id")  # an older warehouse
    queue(con, "r1", RUN_1, settings(webhook="http://127.0.0.1:9/hook", record_url=SALESFORCE))
    payload = json.loads(
        con.execute(
            "select payload from routing.outbox_messages "
            "where message_key = 'webhook|alerts|r1|MGR'"
        ).fetchone()[0]
    )
    assert validate(payload) == []
    assert "<@" not in payload["text"]
    body = "\n".join(b["text"]["text"] for b in payload["blocks"] if "text" in b)
    assert "<https://acme.my.salesforce.com/ACC-1|Acme &amp; Co> — what happened" in body
    assert "<https://acme.my.salesforce.com/ACC-2|Globex>" in body


def test_webhook_delivery_keeps_its_idempotency_keys(con) -> None:  # type: ignore[no-untyped-def]
    queue(con, "r1", RUN_1, settings(webhook="http://127.0.0.1:9/hook"))
    with webhook_sink(Sink()) as sink:
        report = notify.deliver(con, settings(webhook=sink.url).sinks)
        again = notify.deliver(con, settings(webhook=sink.url).sinks)
    assert (report.sent, report.pending, again.sent) == (3, 0, 0)
    assert sorted(str(m["key"]) for m in sink.received) == [
        "webhook|alerts|r1|MGR",
        "webhook|alerts|r1|revops",
        "webhook|summary|r1",
    ]
    assert all(validate(m["body"]) == [] for m in sink.received)


# ---------------------------------------------------------------- e-mail


def mail_url(server: MailServer, to: str = "revops@example.com") -> str:
    return f"mailto://127.0.0.1:{server.port}?from={FROM}&to={to}"


def test_email_reaches_the_manager_and_revops_through_a_local_smtp_server(con) -> None:  # type: ignore[no-untyped-def]
    with smtp_server(MailServer()) as server:
        config = settings(email=mail_url(server), record_url=SALESFORCE)
        queue(con, "r1", RUN_1, config)
        report = notify.deliver(con, config.sinks)
        again = notify.deliver(con, config.sinks)
    assert (report.sent, report.pending, again.sent) == (2, 0, 0)
    by_recipient = {tuple(m.recipients): m for m in server.received}
    assert set(by_recipient) == {("maria@example.com",), ("revops@example.com",)}
    manager = by_recipient[("maria@example.com",)]
    assert manager.sender == FROM
    assert manager.message["Subject"] == "Switchboard: 2 alerts for Maria Lopez"
    html = manager.part("text/html")
    assert '<a href="https://acme.my.salesforce.com/ACC-1">Acme &amp; Co</a>' in html
    assert "Accounts without a valid owner (1)" in html
    assert (
        "Switchboard: 1 alert for revops"
        == by_recipient[("revops@example.com",)].message["Subject"]
    )
    assert {s for _, s in queued(con)} == {"sent"}


def test_email_to_the_url_only_and_with_the_summary(con) -> None:  # type: ignore[no-untyped-def]
    with smtp_server(MailServer()) as server:
        config = settings(email=mail_url(server))
        config = config.model_copy(
            update={
                "sinks": config.sinks.model_copy(
                    update={
                        "email": config.sinks.email.model_copy(
                            update={"to_recipients": False, "summary": True}
                        )
                    }
                )
            }
        )
        queue(con, "r1", RUN_1, config)
        notify.deliver(con, config.sinks)
    assert [m.recipients for m in server.received] == [["revops@example.com"]] * 3
    assert sorted(str(m.message["Subject"]) for m in server.received) == [
        "Hourly routing run published",
        "Switchboard: 1 alert for revops",
        "Switchboard: 2 alerts for Maria Lopez",
    ]


def test_an_smtp_outage_leaves_mail_pending_then_delivers_it_once(con) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    down = f"mailto://127.0.0.1:{closed}?from={FROM}&to=revops@example.com"
    queue(con, "r1", RUN_1, settings(email=down))
    report = notify.deliver(con, settings(email=down).sinks)
    assert (report.sent, report.pending, report.sinks) == (0, 2, ("email",))
    assert report.error is not None and report.error.startswith("e-mail: ")
    line = delivery_line(report.pending, report.error, report.sinks)
    assert line.startswith("deliveries pending: 2 messages to e-mail not delivered")
    assert [m for m in publish.pending_messages(con)["sink"]] == ["email", "email"]

    # A server that refuses the first message once: retried within the delivery.
    with smtp_server(MailServer(refuse_first=1)) as server:
        report = notify.deliver(con, settings(email=mail_url(server)).sinks)
    assert (report.sent, report.pending) == (2, 0)
    assert server.attempts == 3 and len(server.received) == 2
    assert publish.pending_messages(con).is_empty()


def test_no_url_keeps_queued_messages_pending_and_says_which_setting(con) -> None:  # type: ignore[no-untyped-def]
    queue(
        con,
        "r1",
        RUN_1,
        settings(
            webhook="http://127.0.0.1:9/hook",
            email=f"mailto://127.0.0.1?from={FROM}",
            teams="workflows://127.0.0.1/wf/sig",
        ),
    )
    report = notify.deliver(con, settings().sinks)
    assert (report.pending, report.sinks) == (8, ("webhook", "email", "teams"))
    assert report.error == (
        "no webhook URL (set sinks.webhook.url or SWITCHBOARD_WEBHOOK_URL); "
        "e-mail: no e-mail URL (set sinks.email.url or SWITCHBOARD_EMAIL_URL); "
        "Teams: no Teams URL (set sinks.teams.url or SWITCHBOARD_TEAMS_URL)"
    )
    assert delivery_line(report.pending, report.error, report.sinks).startswith(
        "deliveries pending: 8 messages to the webhook, e-mail and Teams not delivered"
    )


# ---------------------------------------------------------------- Microsoft Teams


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_teams_workflow_url_posts_adaptive_cards_to_a_local_https_server(con) -> None:  # type: ignore[no-untyped-def]
    with webhook_sink(Sink(), tls=True) as sink:
        port = sink.url.split(":")[2].split("/")[0]
        # apprise's Teams (Power Automate workflow) plugin; verify=no for the test's
        # self-signed certificate.
        url = f"workflows://127.0.0.1:{port}/wf123/sig456/?verify=no&image=no"
        config = settings(teams=url, record_url=SALESFORCE)
        queue(con, "r1", RUN_1, config)
        report = notify.deliver(con, config.sinks)
    assert (report.sent, report.pending) == (3, 0)
    assert len(sink.received) == 3
    assert all(
        str(m["path"]).startswith("/workflows/wf123/triggers/manual/paths/invoke?")
        and "sig=sig456" in str(m["path"])
        for m in sink.received
    )
    cards = [m["body"]["attachments"][0]["content"] for m in sink.received]  # type: ignore[index]
    assert {c["type"] for c in cards} == {"AdaptiveCard"}
    titles = Counter(c["body"][0]["text"] for c in cards)
    assert titles == Counter(
        {
            "Switchboard: 2 alerts for Maria Lopez": 1,
            "Switchboard: 1 alert for revops": 1,
            "Hourly routing run published": 1,
        }
    )
    manager = next(c for c in cards if c["body"][0]["text"].endswith("Maria Lopez"))
    assert (
        "[Acme & Co](https://acme.my.salesforce.com/ACC-1) — what happened"
        in (manager["body"][1]["text"])
    )


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_failing_teams_workflow_keeps_its_messages_pending(con) -> None:  # type: ignore[no-untyped-def]
    with webhook_sink(Sink(script=[500]), tls=True) as sink:
        port = sink.url.split(":")[2].split("/")[0]
        config = settings(teams=f"workflows://127.0.0.1:{port}/wf/sig/?verify=no")
        queue(con, "r1", RUN_1, config)
        report = notify.deliver(con, config.sinks)
    assert (report.sent, report.pending, report.sinks) == (0, 3, ("teams",))
    assert sink.attempts == FAST["max_attempts"]  # then the rest wait for the next run
    assert report.error is not None and "500" in report.error
    assert report.error.startswith("Teams: ")


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "sinks:\n  email:\n    url: smtp://user:secret@mail.example.com\n",
            "`sinks.email.url`: `smtp://user:***@mail.example.com` is not a URL this sink takes: "
            "use mailto:// or mailtos://",
        ),
        (
            "sinks:\n  teams:\n    url: http://teams.example.com/hook\n",
            "`sinks.teams.url`: `http://teams.example.com/hook` is not a URL this sink takes",
        ),
        (
            "messages:\n  record_url: https://acme.my.salesforce.com/\n",
            "`messages.record_url`: `https://acme.my.salesforce.com/` has no `{id}`",
        ),
        (
            "messages:\n  record_url: {acount: 'https://x.example.com/{id}'}\n",
            "no record type `acount`: did you mean `account`?",
        ),
        ("messages:\n  record_url: https://x.example.com/{Id}\n", "has no `{id}`"),
        ("messages:\n  revops_slack_id: '#revops'\n", "`#revops` is not a Slack member id"),
    ],
)
def test_sink_and_message_settings_are_checked_before_anything_runs(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    path = tmp_path / "routing.yml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert expected in str(error.value)
    assert "secret" not in str(error.value)


def test_environment_urls_win_over_routing_yml(monkeypatch: pytest.MonkeyPatch) -> None:
    sinks = settings(email=f"mailto://a.example.com?from={FROM}").sinks
    assert notify.configured(sinks) == ["email"]
    monkeypatch.setenv("SWITCHBOARD_TEAMS_URL", "workflows://b.example.com/wf/sig")
    monkeypatch.setenv("SWITCHBOARD_EMAIL_URL", f"mailtos://c.example.com?from={FROM}")
    assert notify.configured(sinks) == ["email", "teams"]
    assert notify.sink_url(sinks, "email") == f"mailtos://c.example.com?from={FROM}"


def test_a_recipients_address_replaces_the_urls_recipients() -> None:
    url = f"mailtos://u:p%40ss@smtp.example.com:587/other@example.com?from={FROM}&to=revops@x.com"
    one = notify.message_url(url, {"to": "maria@example.com"}, 7)
    assert one == (
        f"mailtos://u:p%40ss@smtp.example.com:587?from={FROM.replace('@', '%40')}"
        "&cto=7&rto=7&to=maria%40example.com"
    )
    unchanged = notify.message_url(url, {"to": None}, 7)
    assert "/other@example.com?" in unchanged and "to=revops%40x.com" in unchanged


def test_a_sink_url_in_the_environment_is_checked_before_a_command_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from switchboard.cli import app

    monkeypatch.setenv("SWITCHBOARD_EMAIL_URL", "smtps://switchboard:hunter2@smtp.example.com")
    result = CliRunner().invoke(app, ["publish", "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: SWITCHBOARD_EMAIL_URL: `smtps://switchboard:***@smtp.example.com` is not a "
        "URL this sink takes: use mailto:// or mailtos:// (e.g. "
        "mailtos://user:password@smtp.example.com)"
    )
