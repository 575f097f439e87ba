"""The routing summary of one run: the closing table of the CLI and outbox summary.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from switchboard.rules import RULE_LABELS

NEW_RECORD_SECONDS = 24 * 3600
# How a line names a notification sink (routing.outbox_messages.sink).
SINK_NAMES = {"webhook": "the webhook", "email": "e-mail", "teams": "Teams"}


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    mode: str
    status: str
    records: int = 0
    accounts: int = 0
    leads: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    conflict_examples: list[str] = field(default_factory=list)
    alerts_by_type: dict[str, int] = field(default_factory=dict)
    median_latency_minutes: float | None = None
    mean_latency_minutes: float | None = None
    p90_latency_minutes: float | None = None
    message: str = ""
    # Notification messages (webhook, e-mail, Teams) still undelivered when the run ended
    # (of this run or earlier ones), and their sinks: the run is published, its delivery is
    # not. The CLI exits non-zero on them.
    pending_messages: int = 0
    pending_error: str | None = None
    pending_sinks: tuple[str, ...] = ()

    def delivery_line(self) -> str:
        return delivery_line(self.pending_messages, self.pending_error, self.pending_sinks)

    def headline(self) -> str:
        """One paragraph a sales manager can read: what was routed, how fast, how."""
        if self.status == "stopped":
            return f"Run {self.run_id} stopped before publishing: {self.message}"
        if self.records == 0:
            # Records an earlier run left in a queue are not decided again while nothing
            # about them changed (switchboard.queued), so they may still lack a rep.
            return (
                "Nothing needed a decision: every account and lead has a valid owner "
                "or waits in the queue an earlier run sent it to."
            )
        parts = [f"{counted(self.accounts, 'account')} and {counted(self.leads, 'lead')} routed."]
        if self.mean_latency_minutes is not None:
            parts.append(
                f"Avg routing time {format_minutes(self.mean_latency_minutes)} for new records."
            )
        how = ", ".join(
            f"{n} {RULE_LABELS.get(rule, rule)}"
            for rule, n in sorted(self.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        parts.append(how + ".")
        if self.conflicts:
            noun = "conflict" if self.conflicts == 1 else "conflicts"
            parts.append(
                f"{self.conflicts} {noun} flagged"
                + (": " + self.conflict_examples[0] if self.conflict_examples else ".")
            )
        return " ".join(parts)

    def to_markdown(self) -> str:
        lines = [
            f"# Routing run {self.run_id}",
            "",
            f"Mode: {self.mode}. Status: {self.status}.",
            "",
            self.headline(),
            "",
        ]
        if self.by_rule:
            lines += ["| rule | records |", "|---|---:|"]
            lines += [f"| {rule} | {n} |" for rule, n in sorted(self.by_rule.items())]
            lines.append("")
        if self.median_latency_minutes is not None:
            lines.append(
                f"Time from creation to owner, records of the last 24 h: median "
                f"{format_minutes(self.median_latency_minutes)}, p90 "
                f"{format_minutes(self.p90_latency_minutes or 0)}."
            )
            lines.append("")
        if self.conflict_examples:
            lines += ["## Conflicts", ""] + [f"- {c}" for c in self.conflict_examples] + [""]
        if self.alerts_by_type:
            lines += ["## Alerts", ""]
            lines += [f"- {t}: {n}" for t, n in sorted(self.alerts_by_type.items())]
            lines.append("")
        if self.pending_messages:
            line = self.delivery_line()
            lines += ["## Deliveries pending", "", line[0].upper() + line[1:] + ".", ""]
        return "\n".join(lines)


def delivery_line(pending: int, last_error: str | None, sinks: Sequence[str] = ()) -> str:
    """The one line that says deliveries are pending: how many, where (the webhook when
    ``sinks`` is empty), the last error, and what sends them."""
    noun = "message" if pending == 1 else "messages"
    names = [SINK_NAMES.get(s, s) for s in sinks] or [SINK_NAMES["webhook"]]
    where = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return (
        f"deliveries pending: {pending} {noun} to {where} not delivered "
        f"(last error: {last_error or 'none recorded'}); every run retries them, "
        "and so does `switchboard publish --retry`"
    )


def format_minutes(value: float) -> str:
    if value >= 120:
        return f"{value / 60:.1f} h"
    return f"{value:.1f} min"


def summarize(
    *,
    run_id: str,
    mode: str,
    decisions: pl.DataFrame,
    conflicts: pl.DataFrame,
    alerts: pl.DataFrame,
    status: str = "published",
    message: str = "",
    examples: int = 5,
) -> RunSummary:
    by_rule = dict(decisions.group_by("rule").len().iter_rows()) if decisions.height else {}
    # Time to owner is about new records: a redistributed book or an account that sat
    # unowned for years would drown the figure.
    new_records = decisions.filter(
        pl.col("previous_owner_id").is_null() & (pl.col("latency_seconds") <= NEW_RECORD_SECONDS)
    )
    latency = (
        new_records.select(
            median=pl.col("latency_seconds").median() / 60,
            mean=pl.col("latency_seconds").mean() / 60,
            p90=pl.col("latency_seconds").quantile(0.9) / 60,
        ).row(0, named=True)
        if new_records.height
        else {"median": None, "mean": None, "p90": None}
    )
    counts = decisions.group_by("record_type").len()
    per_type = dict(counts.iter_rows()) if counts.height else {}
    conflict_lines = (
        conflicts.unique("record_id", keep="first", maintain_order=True)
        .head(examples)
        .select(
            pl.format("{} {} ({}): {}", "record_type", "record_id", "conflict_type", "rationale")
        )
        .to_series()
        .to_list()
        if conflicts.height
        else []
    )
    return RunSummary(
        run_id=run_id,
        mode=mode,
        status=status,
        records=decisions.height,
        accounts=int(per_type.get("account", 0)),
        leads=int(per_type.get("lead", 0)),
        by_rule={str(k): int(v) for k, v in by_rule.items()},
        conflicts=conflicts.select(pl.col("record_id").n_unique()).item()
        if conflicts.height
        else 0,
        conflict_examples=conflict_lines,
        alerts_by_type=dict(alerts.group_by("type").len().iter_rows()) if alerts.height else {},
        median_latency_minutes=latency["median"],
        mean_latency_minutes=latency["mean"],
        p90_latency_minutes=latency["p90"],
        message=message,
    )


def counted(n: int, noun: str) -> str:
    """ "1 lead", "0 leads", "1,200 accounts"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
