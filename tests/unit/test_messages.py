"""Messages people act on: one Block Kit message per recipient with records by name,
linked, grouped by alert type, within Slack's limits (tests/slack_blocks.py checks the
schema); the run summary as Block Kit sections; the same digests as e-mail and Teams text."""

from __future__ import annotations

import json
import re
from datetime import datetime

import polars as pl
import pytest

from switchboard import blockkit, messages
from switchboard.alerts import ALERTS
from switchboard.config.sinks import Messages
from switchboard.summary import RunSummary
from tests.slack_blocks import texts, validate

AS_OF = datetime(2026, 11, 23, 9, 0)
RUN = "20261123T090000-hourly-abcdef12"
FULL_LIST = f"outbox/{RUN}/alerts.jsonl"
SALESFORCE = "https://acme.my.salesforce.com/{id}"


def alert(
    kind: str,
    recipient: str,
    *,
    record: str | None = None,
    rep: str | None = None,
    record_type: str | None = "account",
    detail: str = "what happened",
    severity: str = "high",
) -> dict[str, object]:
    return {
        "run_id": RUN,
        "type": kind,
        "severity": severity,
        "recipient_id": recipient,
        "record_type": record_type if record else None,
        "record_id": record,
        "rep_id": rep,
        "message": f"{kind} {record or rep}",
        "detail": detail,
        "alert_key": f"{kind}|{record}|{rep}",
    }


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ALERTS)


NAMES = pl.DataFrame(
    {
        "record_type": ["account", "account", "lead", "rep"],
        "record_id": ["ACC-1", "ACC-2", "LEAD-1", "REP-5"],
        "name": ["Aardvark & Co <EU>", "Globex", "jo@example.com (Initech)", "Rita Rep"],
    },
    schema=messages.NAMES,
)
RECIPIENTS = pl.DataFrame(
    {
        "rep_id": ["MGR"],
        "rep_name": ["Maria Lopez"],
        "email": ["maria@example.com"],
        "slack_user_id": ["U0MARIA1"],
    },
    schema=messages.RECIPIENTS,
)


def digests(
    alerts: pl.DataFrame, config: Messages | None = None, names: pl.DataFrame = NAMES
) -> list[messages.Digest]:
    return messages.digests(
        alerts,
        names=names,
        recipients=RECIPIENTS,
        config=config or Messages(),
        revops_recipient="revops",
        run_id=RUN,
        mode="hourly",
        as_of=AS_OF,
        full_list=FULL_LIST,
    )


def managers_alerts(unowned: int = 25) -> pl.DataFrame:
    rows = [
        alert(
            "unowned_account",
            "MGR",
            record=f"ACC-{i:03}",
            detail="no valid owner since 2026-11-22 00:00 (terminated: Pat Leaver)",
        )
        for i in range(3, 3 + unowned)
    ]
    rows += [
        alert("unowned_account", "MGR", record="ACC-1", detail="no valid owner (terminated)"),
        alert(
            "pipeline_handoff",
            "MGR",
            record="ACC-2",
            rep="REP-9",
            detail="open pipeline, owner Pat Leaver no longer valid: hand it off",
        ),
        alert(
            "rep_overloaded",
            "MGR",
            rep="REP-5",
            severity="warning",
            detail="over capacity for 21 days (workload index 130)",
        ),
        alert("routing_conflict", "revops", record="ACC-1", severity="info"),
        alert(
            "rule_gap",
            "revops",
            record="LEAD-1",
            record_type="lead",
            severity="warning",
            detail="no rule matched; waits in fallback-queue",
        ),
    ]
    return frame(rows)


def test_one_block_kit_message_per_recipient_names_links_mentions_and_groups() -> None:
    found = digests(managers_alerts(), Messages(record_url=SALESFORCE, revops_slack_id="S0REVOPS"))
    assert [d.recipient.recipient_id for d in found] == ["MGR", "revops"]
    manager, revops = (blockkit.digest_message(d) for d in found)
    assert validate(manager) == [] and validate(revops) == []

    blocks = manager["blocks"]
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "context",
        "divider",
        "section",
        "section",
        "section",
    ]
    assert blocks[0]["text"]["text"] == "Switchboard: 28 alerts for Maria Lopez"
    assert blocks[1]["text"]["text"] == (
        "<@U0MARIA1> 26 accounts without a valid owner, 1 pipeline handoff, 1 rep over capacity."
    )
    assert manager["text"].startswith("<@U0MARIA1> Switchboard: 28 alerts for Maria Lopez: ")
    unowned, handoff, overloaded = (b["text"]["text"] for b in blocks[4:])
    assert unowned.startswith(":red_circle: *Accounts without a valid owner* (26)\n")
    # Named and linked, the name escaped for mrkdwn, sorted by name: Aardvark first.
    assert (
        "• <https://acme.my.salesforce.com/ACC-1|Aardvark &amp; Co &lt;EU&gt;> — "
        "no valid owner (terminated)"
    ) in unowned
    assert unowned.count("\n• ") == 10  # records_per_group
    assert unowned.endswith(f"…and 16 more: see `{FULL_LIST}`")
    assert "<https://acme.my.salesforce.com/ACC-2|Globex> — open pipeline" in handoff
    assert "<https://acme.my.salesforce.com/REP-5|Rita Rep> — over capacity" in overloaded
    # Routing conflicts stay in the run summary: revops gets the rule gap only.
    assert revops["blocks"][1]["text"]["text"] == "<!subteam^S0REVOPS> 1 record no rule matched."
    assert "jo@example.com (Initech)" in revops["blocks"][-1]["text"]["text"]
    assert found[0].alert_keys == tuple(
        sorted(
            k
            for k, r in managers_alerts().select("alert_key", "recipient_id").iter_rows()
            if r == "MGR"
        )
    )


def test_a_missed_sla_is_a_group_of_its_own_after_the_handoffs() -> None:
    rows = [
        alert(
            "sla_breached",
            "MGR",
            record="LEAD-1",
            record_type="lead",
            rep="REP-5",
            severity="warning",
            detail="not touched within 30 min by Rita Rep; re-routed (1 of 2) to Ana Lopez",
        ),
        alert(
            "pipeline_handoff",
            "MGR",
            record="ACC-2",
            rep="REP-9",
            detail="open pipeline, owner Pat Leaver no longer valid: hand it off",
        ),
    ]
    (digest,) = digests(frame(rows), Messages(record_url=SALESFORCE))
    assert [g.alert_type for g in digest.groups] == ["pipeline_handoff", "sla_breached"]
    message = blockkit.digest_message(digest)
    assert validate(message) == []
    assert message["blocks"][1]["text"]["text"] == (
        "<@U0MARIA1> 1 pipeline handoff, 1 lead not touched within its SLA."
    )
    sla = message["blocks"][-1]["text"]["text"]
    assert sla.startswith(":large_orange_circle: *Leads not touched within their SLA* (1)\n")
    assert (
        "• <https://acme.my.salesforce.com/LEAD-1|jo@example.com (Initech)> — not "
        "touched within 30 min by Rita Rep; re-routed (1 of 2) to Ana Lopez"
    ) in sla


def test_without_record_url_names_are_plain_and_ids_stand_in_for_unknown_names() -> None:
    alerts = frame(
        [
            alert("unowned_account", "MGR-2", record="ACC-1"),
            alert("unowned_account", "MGR-2", record="ACC-UNKNOWN"),
            alert("guard_tripped", "revops", record=None, detail="max_row_drop: 40%"),
        ]
    )
    manager, revops = (blockkit.digest_message(d) for d in digests(alerts))
    assert validate(manager) == [] and validate(revops) == []
    text = manager["blocks"][4]["text"]["text"]
    assert "http" not in text
    assert "• *Aardvark &amp; Co &lt;EU&gt;* — what happened" in text
    assert "• *ACC-UNKNOWN* — what happened" in text
    # A recipient Slack does not know is named, not mentioned; a guard names no record.
    assert manager["blocks"][0]["text"]["text"] == "Switchboard: 2 alerts for MGR-2"
    assert manager["blocks"][1]["text"]["text"] == "2 accounts without a valid owner."
    assert revops["blocks"][4]["text"]["text"].endswith("\n• max_row_drop: 40%")


def test_limits_hold_for_thousands_of_alerts_with_long_names() -> None:
    kinds = [
        "guard_tripped",
        "unowned_account",
        "pipeline_handoff",
        "sla_breached",
        "rep_data_problem",
        "rep_overloaded",
        "rule_gap",
    ]
    rows = [
        alert(kind, "MGR", record=f"R{kind[:3]}{i:05}", detail="d" * 400)
        for kind in kinds
        for i in range(3000)
    ]
    names = pl.DataFrame(
        {
            "record_type": ["account"] * len(rows),
            "record_id": [r["record_id"] for r in rows],
            "name": ["N" * 500] * len(rows),
        },
        schema=messages.NAMES,
    )
    config = Messages(
        record_url="https://crm.example.com/" + "x" * 200 + "/{id}", records_per_group=50
    )
    (digest,) = digests(frame(rows), config, names=names)
    message = blockkit.digest_message(digest)
    assert validate(message) == []
    assert sum(len(t) for t in texts(message)) <= blockkit.TEXT_BUDGET
    for block in message["blocks"][4:]:
        text = block["text"]["text"]
        listed = text.count("\n• ")
        assert 1 <= listed <= 50
        assert text.endswith(f"…and {3000 - listed} more: see `{FULL_LIST}`")
    assert len(json.dumps(message)) < 40_000


def test_more_alert_types_than_blocks_say_so_instead_of_vanishing() -> None:
    groups = tuple(
        messages.Group(
            alert_type=f"type_{i}", severity="info", total=2, lines=(messages.Line("A", None, "x"),)
        )
        for i in range(60)
    )
    digest = messages.Digest(
        run_id=RUN,
        mode="hourly",
        as_of=AS_OF,
        recipient=messages.Recipient("revops"),
        groups=groups,
        alert_keys=(),
        full_list=FULL_LIST,
    )
    message = blockkit.digest_message(digest)
    assert validate(message) == []
    assert len(message["blocks"]) == blockkit.MAX_BLOCKS
    assert message["blocks"][-1]["elements"][0]["text"] == (
        f"…and 30 more alerts of 15 more types: see {FULL_LIST}"
    )


def test_header_and_fallback_are_cut_to_slacks_limits() -> None:
    recipient = messages.Recipient("R", name="Z" * 400)
    digest = messages.Digest(
        run_id=RUN,
        mode="hourly",
        as_of=AS_OF,
        recipient=recipient,
        groups=(messages.Group("rule_gap", "warning", 1, (messages.Line("a", None, "b"),)),),
        alert_keys=(),
        full_list=FULL_LIST,
    )
    message = blockkit.digest_message(digest)
    assert validate(message) == []
    assert len(message["blocks"][0]["text"]["text"]) == blockkit.MAX_HEADER_TEXT
    assert message["blocks"][0]["text"]["text"].endswith("…")


SUMMARY = RunSummary(
    run_id=RUN,
    mode="hourly",
    status="published",
    records=331,
    accounts=150,
    leads=181,
    by_rule={"territory": 138, "account_owner": 126, "fallback_queue": 10},
    conflicts=38,
    conflict_examples=["account ACC-1 (pipeline_owner_mismatch): <why> & how"],
    alerts_by_type={"unowned_account": 27, "rule_gap": 10},
    median_latency_minutes=48.8,
    mean_latency_minutes=300.0,
    p90_latency_minutes=1038.0,
)


def test_the_run_summary_is_block_kit_sections_not_markdown() -> None:
    message = blockkit.summary_message(SUMMARY)
    assert validate(message) == []
    blocks = message["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Hourly routing run published", "emoji": True},
    }
    assert blocks[1]["text"]["text"].startswith("150 accounts and 181 leads routed.")
    by_rule = next(b for b in blocks if b.get("text", {}).get("text") == "*By rule*")
    assert [f["text"] for f in by_rule["fields"]] == [
        "*Via territory*\n138",
        "*With their accounts (owner or queue)*\n126",
        "*To the fallback queue*\n10",
    ]
    alerts = next(b for b in blocks if b.get("text", {}).get("text") == "*Alerts*")
    assert [f["text"] for f in alerts["fields"]] == [
        "*Accounts without a valid owner*\n27",
        "*Records no rule matched*\n10",
    ]
    everything = "\n".join(texts(message))
    assert "|---" not in everything and "\n#" not in everything and "# Routing" not in everything
    assert "&lt;why&gt; &amp; how" in everything
    assert blocks[-1]["type"] == "context" and RUN in blocks[-1]["elements"][0]["text"]
    assert message["text"].startswith("Hourly routing run published: 150 accounts")


def test_a_summary_with_many_rules_splits_its_fields_ten_to_a_section() -> None:
    many = RunSummary(
        run_id=RUN,
        mode="departure",
        status="published",
        records=23,
        accounts=23,
        by_rule={f"rule_{i:02}": i + 1 for i in range(23)},
    )
    message = blockkit.summary_message(many)
    assert validate(message) == []
    sections = [
        b for b in message["blocks"] if "fields" in b and b["text"]["text"].startswith("*By rule*")
    ]
    assert [len(b["fields"]) for b in sections] == [10, 10, 3]
    stopped = blockkit.summary_message(
        RunSummary(
            run_id=RUN, mode="hourly", status="stopped", message="guard max_row_drop tripped"
        )
    )
    assert validate(stopped) == []
    assert stopped["blocks"][0]["text"]["text"] == "Hourly routing run stopped before publishing"


def test_the_validator_catches_what_slack_rejects() -> None:
    bad = {
        "blocks": [
            {"type": "header", "text": {"type": "mrkdwn", "text": "x"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
            {"type": "section", "text": {"type": "mrkdwn", "text": "a < b & c"}},
            {"type": "table"},
        ]
        + [{"type": "divider"}] * 45
    }
    problems = validate(bad)
    assert "no plain `text` fallback" in problems
    assert "51 blocks (at most 50)" in problems
    for fragment in (
        "blocks[0]: text must be plain_text",
        "blocks[1]: text is 3001 characters",
        "blocks[2]: `fields` must hold 1 to 10",
        "blocks[3]: `elements` must hold",
        "blocks[4]: text has an unescaped <",
        "blocks[4]: text has an unescaped &",
        "blocks[5]: unknown block type 'table'",
    ):
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)


@pytest.mark.parametrize(
    ("spec", "kind", "ident", "url"),
    [
        (SALESFORCE, "account", "001A/b c", "https://acme.my.salesforce.com/001A%2Fb%20c"),
        (
            {"lead": "https://app.example.com/{record_type}s/{id}"},
            "lead",
            "L1",
            "https://app.example.com/leads/L1",
        ),
        ({"lead": "https://app.example.com/{id}"}, "account", "A1", None),
    ],
)
def test_record_url_templates(
    spec: str | dict[str, str], kind: str, ident: str, url: str | None
) -> None:
    rows = [alert("rule_gap", "revops", record=ident, record_type=kind)]
    (digest,) = digests(frame(rows), Messages(record_url=spec))
    assert digest.groups[0].lines[0].url == url


def test_the_same_digest_as_an_html_email_and_teams_markdown() -> None:
    (manager, _) = digests(managers_alerts(unowned=2), Messages(record_url=SALESFORCE))
    body = messages.digest_html(manager)
    assert "<h2>Switchboard: 5 alerts for Maria Lopez</h2>" in body
    assert (
        '<li><a href="https://acme.my.salesforce.com/ACC-1">Aardvark &amp; Co &lt;EU&gt;</a>'
        " — no valid owner (terminated)</li>"
    ) in body
    markdown = messages.digest_markdown(manager)
    assert (
        "- [Aardvark & Co <EU>](https://acme.my.salesforce.com/ACC-1) — no valid owner (terminated)"
    ) in markdown
    assert markdown.startswith("3 accounts without a valid owner, 1 pipeline handoff")
    assert re.search(r"\*\*Reps over capacity \(1\)\*\*", markdown)
    summary = messages.summary_markdown(SUMMARY)
    assert "- Via territory: 138" in summary and "|---" not in summary
    assert "<td>Via territory</td>" in messages.summary_html(SUMMARY)
