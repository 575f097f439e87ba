"""Slack Block Kit messages: a recipient's digest and the run summary.

Built within Slack's documented limits, by construction rather than by hoping: at most 50
blocks a message, a header's plain_text at most 150 characters, a section's text at most
3000, at most 10 fields a section and 2000 characters a field, at most 10 elements a
context block. Slack also refuses a message whose blocks hold too much text overall
(`msg_blocks_too_long`, somewhere above 12,000 characters, undocumented), so a digest keeps
its groups within TEXT_BUDGET together: a group that does not fit lists its first records
and "…and K more" with where the whole list is. Every message carries a plain `text`
fallback (notifications, clients without blocks).
"""

from __future__ import annotations

from typing import Any

from switchboard.messages import Digest, Group, Line, summary_tables, summary_title
from switchboard.summary import RunSummary

MAX_BLOCKS = 50
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
# Our own limits: the sum of a message's block texts, and the fallback text.
TEXT_BUDGET = 12_000
MAX_FALLBACK_TEXT = 3000
MAX_NAME = 100

SEVERITY_EMOJI = {
    "high": ":red_circle:",
    "warning": ":large_orange_circle:",
    "info": ":large_blue_circle:",
}

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text shown as written in mrkdwn: Slack reads &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """<url|label>; the URL may hold neither | nor > (percent-encoded)."""
    safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe}|{escape(label)}>"


def mention(slack_id: str | None) -> str | None:
    """<@U…> for a member, <!subteam^S…> for a user group."""
    if not slack_id:
        return None
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": cut(text, MAX_HEADER_TEXT), "emoji": True},
    }


def section(text: str, fields: list[str] | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)},
    }
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": cut(f, MAX_FIELD_TEXT)} for f in fields[:MAX_FIELDS]
        ]
    return block


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": cut(t, MAX_SECTION_TEXT)}
            for t in texts[:MAX_CONTEXT_ELEMENTS]
        ],
    }


DIVIDER: Block = {"type": "divider"}


def _line(line: Line) -> str:
    name = cut(line.name, MAX_NAME) if line.name else None
    shown = link(line.url, name) if line.url and name else f"*{escape(name)}*" if name else ""
    return f"• {shown}{' — ' if shown else ''}{escape(line.detail)}"


def group_text(group: Group, full_list: str, budget: int) -> str:
    """A group's section text within ``budget`` characters: its title, as many of its
    listed records as fit, and "…and K more" for the rest."""
    emoji = SEVERITY_EMOJI.get(group.severity, "")
    head = f"{emoji} *{escape(group.title)}* ({group.total})".strip()
    lines = [_line(line) for line in group.lines]
    for shown in range(len(lines), -1, -1):
        hidden = group.total - shown
        more = f"…and {hidden} more: see `{escape(full_list)}`" if hidden else ""
        text = "\n".join([head, *lines[:shown], *([more] if more else [])])
        if len(text) <= budget:
            return text
    return cut(head, budget)


def digest_message(digest: Digest) -> dict[str, Any]:
    """One recipient's new alerts as a Block Kit message: a header, the headline counts
    (mentioning the recipient when Slack knows them), the run, then one section per alert
    type listing records by name, linked when `messages.record_url` is set."""
    who = mention(digest.recipient.slack_id)
    headline = escape(digest.headline()) + "."
    intro = f"{who} {headline}" if who else headline
    blocks = [header(digest.title()), section(intro), context(escape(digest.context())), DIVIDER]
    used = sum(_text_length(b) for b in blocks)
    room = MAX_BLOCKS - len(blocks)
    groups = list(digest.groups)
    if len(groups) > room:  # more alert types than blocks: say so rather than drop them
        hidden = groups[room - 1 :]
        groups = groups[: room - 1]
        tail: Block | None = context(
            escape(
                f"…and {sum(g.total for g in hidden)} more alerts of {len(hidden)} more types: "
                f"see {digest.full_list}"
            )
        )
    else:
        tail = None
    budget = min(MAX_SECTION_TEXT, (TEXT_BUDGET - used) // max(len(groups), 1))
    blocks += [section(group_text(g, digest.full_list, budget)) for g in groups]
    if tail is not None:
        blocks.append(tail)
    fallback = f"{digest.title()}: {digest.headline()}."
    return {
        "text": cut(f"{who} {fallback}" if who else fallback, MAX_FALLBACK_TEXT),
        "blocks": blocks,
    }


def summary_message(summary: RunSummary) -> dict[str, Any]:
    """The run summary as Block Kit: header, headline, then each table of figures as a
    section of fields (two columns in Slack), the conflict examples, and the run."""
    blocks: list[Block] = [header(summary_title(summary)), section(escape(summary.headline()))]
    for heading, rows in summary_tables(summary):
        fields = [f"*{escape(label)}*\n{escape(value)}" for label, value in rows]
        for start in range(0, len(fields), MAX_FIELDS):
            title = f"*{escape(heading)}*" + (" (continued)" if start else "")
            blocks.append(section(title, fields[start : start + MAX_FIELDS]))
    if summary.conflict_examples:
        blocks.append(
            section(
                "*Conflicts* (examples)\n"
                + "\n".join(f"• {escape(c)}" for c in summary.conflict_examples)
            )
        )
    blocks.append(context(escape(f"Run {summary.run_id} · {summary.mode} · {summary.status}")))
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    text = f"{summary_title(summary)}: {summary.headline()}"
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def _text_length(block: Block) -> int:
    texts = [block.get("text", {}).get("text", "")]
    texts += [f["text"] for f in block.get("fields", [])]
    texts += [e.get("text", "") for e in block.get("elements", [])]
    return sum(len(t) for t in texts)
