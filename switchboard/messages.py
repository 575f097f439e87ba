"""What a run tells people: one message per recipient, listing the records its new alerts
are about by name (and link), grouped by alert type, plus the run summary.

Pure: alert rows and name lookups come in as frames, `Digest`s come out, and the renderers
here turn them into e-mail (HTML) and Teams (Markdown) text; switchboard.blockkit renders
them for Slack. Each group lists at most `messages.records_per_group` records and counts
the rest, naming where the whole list is (the run's alerts.jsonl).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import polars as pl

from switchboard.config.sinks import Messages
from switchboard.rules import DIGEST_TYPES, GROUP_TITLES, HEADLINE_NOUNS, RULE_LABELS
from switchboard.summary import RunSummary, format_minutes

# The alert types a recipient's message lists, most urgent first (DIGEST_TYPES), their
# group titles and counted nouns: switchboard.rules. Routing conflicts (info, potentially
# thousands) stay in the run summary; delivery_failed goes to the files only (a sink is
# what is failing).

# A line's detail is cut here: a conflict's rationale can be long.
MAX_DETAIL = 280

NAMES: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "name": pl.String(),
}
RECIPIENTS: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "rep_name": pl.String(),
    "email": pl.String(),
    "slack_user_id": pl.String(),
}


@dataclass(frozen=True)
class Line:
    """One alert as a message lists it: its record's (or rep's) name and link, and what
    the alert says about it. ``name`` is None for an alert about the run (a guard)."""

    name: str | None
    url: str | None
    detail: str


@dataclass(frozen=True)
class Group:
    alert_type: str
    severity: str
    total: int
    lines: tuple[Line, ...]  # the first records_per_group of them

    @property
    def title(self) -> str:
        return GROUP_TITLES.get(self.alert_type, self.alert_type)


@dataclass(frozen=True)
class Recipient:
    recipient_id: str
    name: str | None = None
    email: str | None = None
    # A Slack member (U…, W…) or user group (S…) id; None: Slack cannot mention them.
    slack_id: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.recipient_id


@dataclass(frozen=True)
class Digest:
    """The new alerts of one run for one recipient."""

    run_id: str
    mode: str
    as_of: datetime | None
    recipient: Recipient
    groups: tuple[Group, ...]
    alert_keys: tuple[str, ...]
    # Where every alert of the run is listed: outbox/<run_id>/alerts.jsonl, or the table.
    full_list: str

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)

    def title(self) -> str:
        noun = "alert" if self.total == 1 else "alerts"
        return f"Switchboard: {self.total} {noun} for {self.recipient.label}"

    def headline(self) -> str:
        return ", ".join(counted(g.alert_type, g.total) for g in self.groups)

    def context(self) -> str:
        when = f" · as of {self.as_of:%Y-%m-%d %H:%M} UTC" if self.as_of else ""
        return f"Run {self.run_id} · {self.mode}{when}"


def counted(alert_type: str, n: int) -> str:
    one, many = HEADLINE_NOUNS.get(alert_type, (alert_type, alert_type))
    return f"{n} {one if n == 1 else many}"


def full_list_pointer(outbox: str | None, run_id: str) -> str:
    """Where a reader finds every alert of the run: the files sink's alerts.jsonl, or the
    warehouse table when the files sink is off."""
    if outbox is not None:
        return f"{outbox.rstrip('/')}/{run_id}/alerts.jsonl"
    return f"routing.alerts (run_id {run_id})"


def _url_templates(config: Messages) -> pl.DataFrame:
    """record_type -> URL template, from `messages.record_url` (one template for every
    type, or one per type)."""
    spec = config.record_url
    if spec is None:
        templates: dict[str, str] = {}
    elif isinstance(spec, str):
        templates = dict.fromkeys(("account", "lead", "rep"), spec)
    else:
        templates = dict(spec)
    return pl.DataFrame(
        {"record_type": list(templates), "template": list(templates.values())},
        schema={"record_type": pl.String, "template": pl.String},
    )


def record_url(template: str | None, record_type: str, record_id: str) -> str | None:
    if template is None:
        return None
    return template.replace("{record_type}", quote(record_type, safe="")).replace(
        "{id}", quote(record_id, safe="")
    )


def digests(
    alerts: pl.DataFrame,
    *,
    names: pl.DataFrame,
    recipients: pl.DataFrame,
    config: Messages,
    revops_recipient: str,
    run_id: str,
    mode: str,
    as_of: datetime | None,
    full_list: str,
) -> list[Digest]:
    """One Digest per recipient of ``alerts`` (rows in routing.alerts' shape; types outside
    DIGEST_TYPES are left out), recipients in id order.

    ``names``: record_type (account, lead, rep), record_id, name. ``recipients``: rep_id,
    rep_name, email, slack_user_id of the reps who receive alerts; a recipient who is not a
    rep (revops) is named by its id and mentioned by `messages.revops_slack_id`.
    """
    wanted = alerts.filter(pl.col("type").is_in(DIGEST_TYPES))
    if not wanted.height:
        return []
    order = {t: i for i, t in enumerate(DIGEST_TYPES)}
    # The alert is about a record, else about a rep (overloaded, held), else about the run.
    subject_type = (
        pl.when(pl.col("record_id").is_not_null())
        .then("record_type")
        .when(pl.col("rep_id").is_not_null())
        .then(pl.lit("rep"))
    )
    subject_id = pl.coalesce("record_id", "rep_id")
    lines = (
        wanted.with_columns(_type=subject_type, _id=subject_id)
        .join(
            names.select(_type="record_type", _id="record_id", _name="name").unique(
                ["_type", "_id"]
            ),
            on=["_type", "_id"],
            how="left",
        )
        .join(_url_templates(config).rename({"record_type": "_type"}), on="_type", how="left")
        .with_columns(
            _rank=pl.col("type").replace_strict(order, return_dtype=pl.Int32),
            _label=pl.coalesce("_name", "_id"),
        )
        .sort("recipient_id", "_rank", pl.col("_label").str.to_lowercase(), "_id", nulls_last=True)
        .with_columns(
            _total=pl.len().over("recipient_id", "type"),
            _nth=pl.int_range(pl.len()).over("recipient_id", "type"),
        )
    )
    keys = lines.group_by("recipient_id", maintain_order=True).agg(keys=pl.col("alert_key").sort())
    shown = lines.filter(pl.col("_nth") < config.records_per_group)
    people = {
        row["rep_id"]: row
        for row in recipients.filter(pl.col("rep_id").is_in(keys["recipient_id"].implode()))
        .unique("rep_id")
        .iter_rows(named=True)
    }
    grouped: dict[str, list[Group]] = {}
    for (recipient_id, alert_type), part in shown.group_by(
        ["recipient_id", "type"], maintain_order=True
    ):
        grouped.setdefault(str(recipient_id), []).append(
            Group(
                alert_type=str(alert_type),
                severity=str(part["severity"][0]),
                total=int(part["_total"][0]),
                lines=tuple(
                    Line(
                        name=label,
                        url=record_url(template, kind, ident) if ident else None,
                        detail=_cut(detail or message or ""),
                    )
                    for label, template, kind, ident, detail, message in part.select(
                        "_label", "template", "_type", "_id", "detail", "message"
                    ).iter_rows()
                ),
            )
        )
    result = []
    for recipient_id, alert_keys in keys.iter_rows():
        rep = people.get(recipient_id)
        recipient = (
            Recipient(
                recipient_id,
                name=rep["rep_name"],
                email=rep["email"],
                slack_id=rep["slack_user_id"],
            )
            if rep is not None
            else Recipient(
                recipient_id,
                slack_id=config.revops_slack_id if recipient_id == revops_recipient else None,
            )
        )
        result.append(
            Digest(
                run_id=run_id,
                mode=mode,
                as_of=as_of,
                recipient=recipient,
                groups=tuple(grouped[recipient_id]),
                alert_keys=tuple(alert_keys),
                full_list=full_list,
            )
        )
    return result


def _cut(text: str, limit: int = MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- e-mail (HTML)


def _more(group: Group, full_list: str) -> str | None:
    hidden = group.total - len(group.lines)
    return f"…and {hidden} more: see {full_list}" if hidden > 0 else None


def digest_html(digest: Digest) -> str:
    """The digest as an HTML e-mail body (apprise adds the plain-text part)."""
    e = html.escape
    parts = [f"<h2>{e(digest.title())}</h2>", f"<p>{e(digest.headline())}.</p>"]
    for group in digest.groups:
        parts.append(f"<h3>{e(group.title)} ({group.total})</h3><ul>")
        for line in group.lines:
            name = (
                f'<a href="{e(line.url)}">{e(line.name)}</a>'
                if line.url and line.name
                else f"<b>{e(line.name)}</b>"
                if line.name
                else ""
            )
            parts.append(f"<li>{name}{' — ' if name else ''}{e(line.detail)}</li>")
        parts.append("</ul>")
        more = _more(group, digest.full_list)
        if more:
            parts.append(f"<p>{e(more)}</p>")
    parts.append(f'<p style="color:#666">{e(digest.context())}</p>')
    return "\n".join(parts)


def summary_html(summary: RunSummary) -> str:
    e = html.escape
    parts = [f"<h2>{e(summary_title(summary))}</h2>", f"<p>{e(summary.headline())}</p>"]
    for heading, rows in summary_tables(summary):
        parts.append(f"<h3>{e(heading)}</h3><table>")
        parts += [f'<tr><td>{e(k)}</td><td align="right">{e(v)}</td></tr>' for k, v in rows]
        parts.append("</table>")
    if summary.conflict_examples:
        parts.append("<h3>Conflicts</h3><ul>")
        parts += [f"<li>{e(c)}</li>" for c in summary.conflict_examples]
        parts.append("</ul>")
    parts.append(f'<p style="color:#666">Run {e(summary.run_id)} · {e(summary.mode)}</p>')
    return "\n".join(parts)


# ---------------------------------------------------------------- Teams (Markdown)


def _md(text: str) -> str:
    """Text that Teams' Markdown shows as written."""
    for char in "\\[]*_`":
        text = text.replace(char, "\\" + char)
    return text


def digest_markdown(digest: Digest) -> str:
    """The digest as the Markdown a Teams card shows (its title is sent apart)."""
    parts = [_md(digest.headline()) + "."]
    for group in digest.groups:
        items = []
        for line in group.lines:
            name = (
                f"[{_md(line.name)}]({line.url})"
                if line.url and line.name
                else f"**{_md(line.name)}**"
                if line.name
                else ""
            )
            items.append(f"- {name}{' — ' if name else ''}{_md(line.detail)}")
        more = _more(group, digest.full_list)
        parts.append(
            f"**{_md(group.title)} ({group.total})**\n\n"
            + "\n".join(items)
            + (f"\n\n{_md(more)}" if more else "")
        )
    parts.append(_md(digest.context()))
    return "\n\n".join(parts)


def summary_markdown(summary: RunSummary) -> str:
    parts = [_md(summary.headline())]
    for heading, rows in summary_tables(summary):
        parts.append(
            f"**{_md(heading)}**\n\n" + "\n".join(f"- {_md(k)}: {_md(v)}" for k, v in rows)
        )
    if summary.conflict_examples:
        parts.append(
            "**Conflicts**\n\n" + "\n".join(f"- {_md(c)}" for c in summary.conflict_examples)
        )
    parts.append(_md(f"Run {summary.run_id} · {summary.mode}"))
    return "\n\n".join(parts)


# ---------------------------------------------------------------- the run summary


def summary_title(summary: RunSummary) -> str:
    """ "Hourly routing run published" (the headline below it says what it did)."""
    mode = summary.mode.replace("_", " ").replace("-", " ").capitalize()
    if summary.status == "stopped":
        return f"{mode} routing run stopped before publishing"
    return f"{mode} routing run {summary.status}"


def summary_tables(summary: RunSummary) -> list[tuple[str, list[tuple[str, str]]]]:
    """The summary's figures as (heading, [(label, value)]) tables, in reading order."""
    tables: list[tuple[str, list[tuple[str, str]]]] = []
    figures = [
        ("Records", str(summary.records)),
        ("Accounts", str(summary.accounts)),
        ("Leads", str(summary.leads)),
        ("Conflicts", str(summary.conflicts)),
    ]
    if summary.median_latency_minutes is not None:
        figures.append(
            (
                "Time to owner (new records)",
                f"median {format_minutes(summary.median_latency_minutes)}, "
                f"p90 {format_minutes(summary.p90_latency_minutes or 0)}",
            )
        )
    if summary.status != "stopped":
        tables.append(("Run", figures))
    if summary.by_rule:
        tables.append(
            (
                "By rule",
                [
                    (RULE_LABELS.get(rule, rule).capitalize(), str(n))
                    for rule, n in sorted(summary.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
            )
        )
    if summary.alerts_by_type:
        tables.append(
            (
                "Alerts",
                [
                    (GROUP_TITLES.get(t, t), str(n))
                    for t, n in sorted(
                        summary.alerts_by_type.items(), key=lambda kv: (-kv[1], kv[0])
                    )
                ],
            )
        )
    if summary.pending_messages:
        tables.append(
            (
                "Deliveries pending",
                [
                    ("Messages", str(summary.pending_messages)),
                    ("Last error", summary.pending_error or "none recorded"),
                ],
            )
        )
    return tables
