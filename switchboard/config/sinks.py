"""routing.yml `sinks:` and `messages:`: where alerts and summaries are delivered (files,
webhook, e-mail, Teams, with the URLs the environment may set) and how messages name
records."""

from __future__ import annotations

import os
import re

from pydantic import Field, field_validator

from switchboard.config.base import ConfigError, _Strict, did_you_mean


class Webhook(_Strict):
    """A Slack incoming webhook (or any endpoint that takes Slack's Block Kit JSON)."""

    url: str | None = None
    timeout_seconds: float = 5
    max_attempts: int = Field(4, ge=1)
    backoff_seconds: float = 0.5
    # Post each run's summary too (besides one message per recipient of new alerts).
    summary: bool = True


# Apprise URL schemes each sink accepts (see switchboard.notify): an e-mail URL reaching a
# Teams channel would fail only at the first delivery.
EMAIL_SCHEMES = ("mailto", "mailtos")
TEAMS_SCHEMES = ("workflow", "workflows", "https")


def _check_url(url: str | None, schemes: tuple[str, ...], example: str) -> str | None:
    if url is None:
        return None
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in schemes:
        raise ValueError(
            f"`{_redacted(url)}` is not a URL this sink takes: use "
            f"{' or '.join(f'{s}://' for s in schemes)} (e.g. {example})"
        )
    return url


# The environment variables that set a sink's URL instead of routing.yml (secrets stay out
# of the file); see switchboard.notify.sink_url.
SINK_URL_VARIABLES = {
    "SWITCHBOARD_EMAIL_URL": (EMAIL_SCHEMES, "mailtos://user:password@smtp.example.com"),
    "SWITCHBOARD_TEAMS_URL": (TEAMS_SCHEMES, "the workflow's https://… URL"),
}


def check_sink_variables() -> None:
    """A sink URL set in the environment is checked like routing.yml's: ConfigError naming
    the variable, before anything runs rather than at the first delivery."""
    for variable, (schemes, example) in SINK_URL_VARIABLES.items():
        try:
            _check_url(os.environ.get(variable) or None, schemes, example)
        except ValueError as exc:
            raise ConfigError(f"{variable}: {exc}") from None


def _redacted(url: str) -> str:
    """The URL without its password (user:password@host)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


class _AppriseDelivery(_Strict):
    """How a sink delivered through apprise retries (switchboard.notify)."""

    timeout_seconds: float = 10
    max_attempts: int = Field(3, ge=1)
    backoff_seconds: float = 1


class Email(_AppriseDelivery):
    """E-mail through apprise: `mailtos://user:password@smtp.example.com?from=...&to=...`."""

    url: str | None = None
    # A recipient with an e-mail in the reps export (a manager) gets the message addressed
    # to them; the others (revops) at the URL's `to`.
    to_recipients: bool = True
    # E-mail each run's summary to the URL's `to` too: off, an hourly e-mail is noise.
    summary: bool = False

    @field_validator("url")
    @classmethod
    def _email_url(cls, url: str | None) -> str | None:
        return _check_url(
            url, EMAIL_SCHEMES, "mailtos://user:password@smtp.example.com?to=revops@example.com"
        )


class Teams(_AppriseDelivery):
    """A Microsoft Teams channel's workflow (Power Automate) webhook, through apprise."""

    url: str | None = None
    summary: bool = True

    @field_validator("url")
    @classmethod
    def _teams_url(cls, url: str | None) -> str | None:
        return _check_url(
            url, TEAMS_SCHEMES, "the workflow's https://…logic.azure.com/workflows/… URL"
        )


class Sinks(_Strict):
    files: bool = True
    webhook: Webhook = Webhook()
    email: Email = Email()
    teams: Teams = Teams()


RECORD_URL_TYPES = ("account", "lead", "rep")
_PLACEHOLDER = re.compile(r"{([^{}]*)}")


class Messages(_Strict):
    """How the messages sent to the webhook, e-mail and Teams name records."""

    # A link for each record: `https://acme.my.salesforce.com/{id}` for every record type,
    # or one template per type ({account: ..., lead: ..., rep: ...}); `{record_type}` is
    # also known. None: plain names.
    record_url: str | dict[str, str] | None = None
    # Records listed per alert type in one message; the rest are counted ("…and 12 more").
    records_per_group: int = Field(10, ge=1, le=50)
    # Slack member (U…/W…) or user group (S…) to mention in revops' messages.
    revops_slack_id: str | None = None

    @field_validator("revops_slack_id")
    @classmethod
    def _slack_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[UWS][A-Z0-9]{2,}", value):
            raise ValueError(
                f"`{value}` is not a Slack member id (U0123ABCD, W0123ABCD) or "
                "user group id (S0123ABCD)"
            )
        return value

    @field_validator("record_url")
    @classmethod
    def _templates(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if value is None:
            return None
        if isinstance(value, dict):
            unknown = [t for t in value if t not in RECORD_URL_TYPES]
            if unknown:
                raise ValueError(
                    "; ".join(
                        f"no record type `{t}`{did_you_mean(t, RECORD_URL_TYPES)}" for t in unknown
                    )
                    + f" (the types are {', '.join(RECORD_URL_TYPES)})"
                )
        for template in value.values() if isinstance(value, dict) else [value]:
            if not re.match(r"^https?://[^/{}]", template):
                raise ValueError(f"`{template}` must start with https:// (or http://) and a host")
            names = _PLACEHOLDER.findall(template)
            if "id" not in names:
                raise ValueError(f"`{template}` has no `{{id}}` for the record's id")
            wrong = [n for n in names if n not in ("id", "record_type")]
            if wrong:
                raise ValueError(
                    f"`{template}`: unknown placeholder `{{{wrong[0]}}}` "
                    "(the placeholders are {id} and {record_type})"
                )
        return value
