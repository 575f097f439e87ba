"""routing.yml: the rule hierarchy, thresholds, weights and queues, as typed settings."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args, get_type_hints

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from switchboard import ENGINE_VERSION, resources
from switchboard.mapping import HeaderMapping, MappingError, load_mapping, parse_mapping
from switchboard.rules import ORDERED_RULES

# The rules routing.yml may order (switchboard.rules); a typo is a literal_error naming them.
if TYPE_CHECKING:
    RuleName = str
else:
    RuleName = Literal[ORDERED_RULES]
DEFAULT_CONFIG_PATH = resources.routing_yml()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    name: RuleName
    enabled: bool = True


class WorkloadWeights(_Strict):
    active_accounts: float = 1.0
    pipeline_accounts: float = 0.5
    inbound_last_7d: float = 0.25
    activity_density: float = 0.0


class Workload(_Strict):
    weights: WorkloadWeights = WorkloadWeights()
    default_capacity: int = Field(200, gt=0)
    high_water: float = Field(100.0, gt=0)
    release: float = Field(95.0, gt=0)

    @model_validator(mode="after")
    def _release_below_high_water(self) -> Workload:
        if self.release > self.high_water:
            raise ValueError(f"release: must not exceed high_water ({self.release:g} > "
                             f"{self.high_water:g})")
        return self


# In a queue name (routing.yml `queues:`), the territory's id.
TERRITORY_ID = "{territory_id}"
# The CRM objects decisions are written back to (a decision's record_type).
ObjectType = Literal["account", "lead"]
OBJECT_TYPES: tuple[str, ...] = get_args(ObjectType)
# A Salesforce id: 15 or 18 letters and digits; the owners of records start with 00.
_SALESFORCE_ID = re.compile(r"00[0-9A-Za-z]{13}(?:[0-9A-Za-z]{3})?")
_SALESFORCE_KINDS = {"005": "user", "00G": "queue", "001": "Account", "00Q": "Lead",
                     "003": "Contact", "006": "Opportunity", "00E": "role", "00e": "profile"}
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _salesforce_suffix(id15: str) -> str:
    """The three characters an 18-character Salesforce id adds: the case of the 15."""
    return "".join(
        _SUFFIX_ALPHABET[sum(1 << i for i, c in enumerate(id15[k:k + 5]) if "A" <= c <= "Z")]
        for k in (0, 5, 10))


def salesforce_id_problem(crm_id: str, object_type: str) -> str | None:
    """Why ``crm_id`` cannot own a record of ``object_type`` in Salesforce, for an id
    shaped like a Salesforce one (15 or 18 letters and digits starting with 00, not all
    digits); None for anything else (a HubSpot owner id, say), which is not checked."""
    if not _SALESFORCE_ID.fullmatch(crm_id) or crm_id.isdigit():
        return None
    if len(crm_id) == 18 and crm_id[15:] != _salesforce_suffix(crm_id[:15]):
        return (f"`{crm_id}` is not a valid 18-character Salesforce id: its last three "
                "characters do not match the first 15 (was its case changed?)")
    kind = _SALESFORCE_KINDS.get(crm_id[:3], f"`{crm_id[:3]}`")
    if kind == "queue" and object_type == "account":
        return (f"`{crm_id}` is a Salesforce queue, and accounts cannot be owned by a queue: "
                "give the user (005…) who holds the queue's accounts")
    if kind not in ("user", "queue"):
        owners = "a user (005…)" if object_type == "account" else "a user (005…) or queue (00G…)"
        return f"`{crm_id}` is a Salesforce {kind} id; an owner is {owners}"
    return None


class QueueIds(_Strict):
    """What a queue or pool the engine decides is in the CRM, per object type: the owner
    id its records get (a Salesforce lead queue 00G…, or a user who holds them: Salesforce
    accounts cannot be owned by a queue)."""

    account: str | None = None
    lead: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _by_object_type(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError(
                f"is `{value}`, not CRM ids by object type such as `{{lead: <id>, account: "
                "<id>}` (the other settings there are fallback, overflow and territory_pool)")
        return value

    @field_validator("account", "lead", mode="before")
    @classmethod
    def _an_id(cls, value: object, info: ValidationInfo) -> str:
        # YAML reads a HubSpot owner id (12345678) as a number.
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"is empty: give the CRM id the queue's {info.field_name}s "
                             "get as their owner, or leave the line out")
        crm_id = value.strip()
        problem = salesforce_id_problem(crm_id, str(info.field_name))
        if problem:
            raise ValueError(problem)
        return crm_id


class Queues(BaseModel):
    """How the engine names its queues (templates), and what each queue or pool name is in
    the CRM (any other key: the name, as decisions carry it, to its QueueIds)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, QueueIds] = Field(init=False)

    fallback: str = "fallback-queue"
    overflow: str = "overflow:{territory_id}"
    territory_pool: str = "pool:{territory_id}"

    @field_validator("fallback", "overflow", "territory_pool", mode="before")
    @classmethod
    def _a_name(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, dict):
            raise ValueError(
                f"is how the engine names its {info.field_name} queues (a text such as "
                f"`{cls.model_fields[str(info.field_name)].default}`), not a queue; map "
                "the names it gives (such as `pool:T-NAE-MM`) to CRM ids")
        return value

    @model_validator(mode="after")
    def _patterns(self) -> Queues:
        for name in self.crm_ids:
            rest = name.replace(TERRITORY_ID, "", 1)
            if "{" in rest or "}" in rest:
                raise ValueError(
                    f"queue name pattern `{name}`: a pattern holds {TERRITORY_ID} once "
                    "and no other braces, as in `pool:{territory_id}`")
        return self

    @property
    def crm_ids(self) -> dict[str, QueueIds]:
        """Queue or pool name (or a name pattern with {territory_id}) -> its CRM ids."""
        return dict(self.model_extra or {})


# The decision fields a write-back file's audit columns may carry.
WritebackField = Literal["previous_owner_id", "queue", "rule", "territory_id", "rationale",
                         "decided_at", "run_id", "rules_version"]


AUDIT_COLUMNS: dict[str, WritebackField] = {
    "Previous_Owner__c": "previous_owner_id",
    "Routing_Rule__c": "rule",
    "Routing_Rationale__c": "rationale",
    "Routed_At__c": "decided_at",
}


class Writeback(_Strict):
    """outbox/<run_id>/Account.csv and Lead.csv: the id and owner columns, then audit
    columns (CRM field name -> decision field), in this order."""

    id_column: str = "Id"
    owner_column: str = "OwnerId"
    columns: dict[str, WritebackField] = Field(default_factory=lambda: dict(AUDIT_COLUMNS))

    @model_validator(mode="after")
    def _distinct_names(self) -> Writeback:
        names = [self.id_column, self.owner_column, *self.columns]
        if any(not name.strip() for name in names):
            raise ValueError("columns: a column name is empty")
        folded = [name.strip().lower() for name in names]
        twice = sorted({name for name in names if folded.count(name.strip().lower()) > 1})
        if twice:
            raise ValueError(f"columns: {', '.join(f'`{n}`' for n in twice)} would name two "
                             f"columns (the files start with {self.id_column} and "
                             f"{self.owner_column}; case is ignored)")
        return self


class Redistribution(_Strict):
    manager_review_open_pipeline: bool = True
    pool_tiers: list[int] = [3]


class Alerts(_Strict):
    unowned_hours: float = 24
    overload_days: int = 21
    # A webhook message still undelivered after this long raises delivery_failed, which goes
    # to the files sink: the webhook is the sink that is failing.
    pending_hours: float = Field(4, gt=0)
    # Who receives alerts that have no natural owner (rule gaps, guards, orphaned records).
    revops_recipient: str = "revops"


ROW_DROP_ENTITIES = ("accounts", "reps", "hr", "territories", "territory_members")


class Guards(_Strict):
    # The share of reps with a book that may turn invalid or held since the last published
    # run, and the fewest such reps that trip it (a team of 9 may lose two reps in a week).
    max_invalid_rep_share: float = Field(0.2, ge=0, le=1)
    min_invalid_reps: int = Field(3, ge=1)
    # The share of owned accounts one run may move, and the fewest moved accounts that trip
    # it: below 10 a move is one small book, quickly checked; with a 30% share the floor
    # changes nothing from 30 owned accounts up.
    max_reassign_share: float = Field(0.3, ge=0, le=1)
    min_reassignments: int = Field(10, ge=1)
    # Per entity, the largest share of rows an export may lose against the last loaded
    # export, and the fewest lost rows that trip it (a team of 9 may lose one rep row).
    max_row_drop: dict[str, float] = Field(
        default_factory=lambda: dict.fromkeys(ROW_DROP_ENTITIES, 0.1)
    )
    min_row_drop: int = Field(3, ge=1)

    @field_validator("max_row_drop")
    @classmethod
    def _shares(cls, limits: dict[str, float]) -> dict[str, float]:
        # A misspelt entity would silently guard nothing: name it, with the likely one.
        unknown = [entity for entity in limits if entity not in ROW_DROP_ENTITIES]
        if unknown:
            raise ValueError("; ".join(
                f"no entity `{entity}`{did_you_mean(entity, ROW_DROP_ENTITIES)}"
                for entity in unknown) + f" (the entities are {', '.join(ROW_DROP_ENTITIES)})")
        bad = {entity: share for entity, share in limits.items() if not 0 <= share <= 1}
        if bad:
            raise ValueError(f"shares must be between 0 and 1: {bad}")
        return limits


class Sla(_Strict):
    """First-touch SLA for inbound leads (docs/OPERATIONS.md, "First-touch SLA"): a lead
    Switchboard gave a rep through a territory that the rep logged no activity on within
    ``first_touch_minutes`` (of the rep's working hours) is re-routed to another member of
    the territory, at most ``max_reroutes`` times; the next miss sends it to manager review.
    """

    first_touch_minutes: int = Field(gt=0)
    # Lead sources (leads.source, case and surrounding spaces ignored) it applies to; empty
    # means every source.
    sources: list[str] = Field(default_factory=list)
    max_reroutes: int = Field(2, ge=0)

    @field_validator("first_touch_minutes", "max_reroutes", mode="before")
    @classmethod
    def _a_count(cls, value: object, info: ValidationInfo) -> object:
        # YAML reads `yes`, `on` and `true` as booleans, which pydantic would take for 1.
        if isinstance(value, bool):
            what = "minutes" if info.field_name == "first_touch_minutes" else "re-routes"
            raise ValueError(f"is `{str(value).lower()}`, not a number of {what}")
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _source_names(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str):
            raise ValueError(f"is `{value}`, not a list: write `sources: [{value}]`")
        if isinstance(value, list):
            odd = [v for v in value if not isinstance(v, str) or not v.strip()]
            if odd:
                shown = f"`{odd[0]}`" if odd[0] not in (None, "") and str(odd[0]).strip() \
                    else "an empty value"
                raise ValueError(f"{shown} is not a lead source: list the leads.source "
                                 "values the SLA applies to, such as `[Web, Demo Request]`")
        return value

    @property
    def source_keys(self) -> list[str]:
        """The sources as compared with leads.source: trimmed and lower-cased."""
        return sorted({source.strip().lower() for source in self.sources})


class Evidence(_Strict):
    # A rep missing from the HR (or reps) export this many consecutive exports has left;
    # fewer, and the rep keeps the book and receives nothing new (a rep_data_problem alert).
    missing_exports: int = Field(2, ge=1)


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
        raise ValueError(f"`{_redacted(url)}` is not a URL this sink takes: use "
                         f"{' or '.join(f'{s}://' for s in schemes)} (e.g. {example})")
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


class Email(_Strict):
    """E-mail through apprise: `mailtos://user:password@smtp.example.com?from=...&to=...`."""

    url: str | None = None
    # A recipient with an e-mail in the reps export (a manager) gets the message addressed
    # to them; the others (revops) at the URL's `to`.
    to_recipients: bool = True
    # E-mail each run's summary to the URL's `to` too: off, an hourly e-mail is noise.
    summary: bool = False
    timeout_seconds: float = 10
    max_attempts: int = Field(3, ge=1)
    backoff_seconds: float = 1

    @field_validator("url")
    @classmethod
    def _email_url(cls, url: str | None) -> str | None:
        return _check_url(url, EMAIL_SCHEMES,
                          "mailtos://user:password@smtp.example.com?to=revops@example.com")


class Teams(_Strict):
    """A Microsoft Teams channel's workflow (Power Automate) webhook, through apprise."""

    url: str | None = None
    summary: bool = True
    timeout_seconds: float = 10
    max_attempts: int = Field(3, ge=1)
    backoff_seconds: float = 1

    @field_validator("url")
    @classmethod
    def _teams_url(cls, url: str | None) -> str | None:
        return _check_url(url, TEAMS_SCHEMES,
                          "the workflow's https://…logic.azure.com/workflows/… URL")


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
            raise ValueError(f"`{value}` is not a Slack member id (U0123ABCD, W0123ABCD) or "
                             "user group id (S0123ABCD)")
        return value

    @field_validator("record_url")
    @classmethod
    def _templates(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if value is None:
            return None
        if isinstance(value, dict):
            unknown = [t for t in value if t not in RECORD_URL_TYPES]
            if unknown:
                raise ValueError("; ".join(
                    f"no record type `{t}`{did_you_mean(t, RECORD_URL_TYPES)}" for t in unknown)
                    + f" (the types are {', '.join(RECORD_URL_TYPES)})")
        for template in value.values() if isinstance(value, dict) else [value]:
            if not re.match(r"^https?://[^/{}]", template):
                raise ValueError(f"`{template}` must start with https:// (or http://) and a "
                                 "host")
            names = _PLACEHOLDER.findall(template)
            if "id" not in names:
                raise ValueError(f"`{template}` has no `{{id}}` for the record's id")
            wrong = [n for n in names if n not in ("id", "record_type")]
            if wrong:
                raise ValueError(f"`{template}`: unknown placeholder `{{{wrong[0]}}}` "
                                 "(the placeholders are {id} and {record_type})")
        return value


OwnerProblem = Literal[
    "unowned", "unknown_owner", "terminated", "deactivated", "role_change", "outside_territory"
]

DEFAULT_RULES = [
    Rule.model_validate({"name": n})
    for n in ORDERED_RULES
]


class RoutingConfig(_Strict):
    rules: list[Rule] = DEFAULT_RULES
    territory_tiebreak: list[
        Literal["opportunity_territory", "priority", "specificity", "territory_id"]
    ] = ["opportunity_territory", "priority", "specificity", "territory_id"]
    carrying_roles: list[str] = ["AE", "Account Executive", "AM", "Account Manager", "SDR", "BDR"]
    workload: Workload = Workload()
    queues: Queues = Queues()
    writeback: Writeback = Writeback()
    redistribution: Redistribution = Redistribution()
    hourly_repairs: list[OwnerProblem] = [
        "unowned",
        "unknown_owner",
        "terminated",
        "deactivated",
        "role_change",
    ]
    alerts: Alerts = Alerts()
    guards: Guards = Guards()
    evidence: Evidence = Evidence()
    # First-touch SLA of inbound leads; absent (None): leads are never re-routed for it.
    sla: Sla | None = None
    sinks: Sinks = Sinks()
    messages: Messages = Messages()
    # How the export's headers and values map to the contracts: a preset name (hubspot,
    # salesforce-report), a file relative to routing.yml, or the mapping inline; set by
    # load_config (see switchboard.mapping).
    mapping: HeaderMapping | None = None
    # Hash of the source text + engine version; set by load_config.
    rules_version: str = "unversioned"

    @field_validator("sla", mode="before")
    @classmethod
    def _sla_settings(cls, value: object) -> object:
        if value is not None and not isinstance(value, dict | Sla):
            raise ValueError(f"is `{value}`, not settings such as `{{first_touch_minutes: 30, "
                             "sources: [Web], max_reroutes: 2}`")
        return value

    @model_validator(mode="after")
    def _fallback_last_and_on(self) -> RoutingConfig:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rules: each rule may appear once")
        if not names or names[-1] != "fallback_queue" or not self.rules[-1].enabled:
            raise ValueError("rules: fallback_queue must be the last rule and enabled")
        return self

    @property
    def enabled_rules(self) -> list[str]:
        return [r.name for r in self.rules if r.enabled]

    def dbt_vars(self) -> dict[str, object]:
        """The settings the dbt models read through `var()`."""
        w = self.workload
        return {
            "carrying_roles": [r.lower() for r in self.carrying_roles],
            "weight_active_accounts": w.weights.active_accounts,
            "weight_pipeline_accounts": w.weights.pipeline_accounts,
            "weight_inbound_last_7d": w.weights.inbound_last_7d,
            "weight_activity_density": w.weights.activity_density,
            "default_capacity": w.default_capacity,
            "high_water": w.high_water,
            "release": w.release,
            "missing_exports": self.evidence.missing_exports,
        }


class ConfigError(ValueError):
    """routing.yml cannot be read or does not validate. The message is one line naming the
    file, the line and, for a misspelt key or value, the likely one."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """": did you mean `x`?" for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f": did you mean `{close[0]}`?" if close else ""


def load_config(path: Path | str | None = None, mapping: str | None = None) -> RoutingConfig:
    """Read routing.yml (the shipped one by default) and stamp its rules_version.

    ``mapping`` (a command's --mapping: a preset or a file relative to the working folder)
    replaces routing.yml's `mapping:`. Every problem is a ConfigError in plain words with
    the file and line, so that a typo reads as one line on the command line, before
    anything else starts."""
    source = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read config {source}: {reason}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {source}{_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {source}: expected a mapping of settings at the top level "
                          "(such as `workload:`)")
    header_mapping = (_load_mapping("--mapping", mapping, Path.cwd()) if mapping else
                      _load_mapping(f"config {source}", data.get("mapping"), source.parent))
    data["mapping"] = header_mapping
    if "sla" in data and data["sla"] is None:
        # An empty `sla:` is a section whose settings were left out (or commented out), not
        # the feature switched off: that is the section removed.
        line = _line_of(yaml.compose(text), ("sla",))
        raise ConfigError(f"config {source}: {f'line {line}: ' if line else ''}`sla` is "
                          "empty: give first_touch_minutes (and sources, max_reroutes), or "
                          "remove the section to switch the first-touch SLA off")
    # A changed mapping file reads the same export differently: it is part of the version.
    mapped = f"|mapping={header_mapping.digest}" if header_mapping else ""
    digest = hashlib.sha256(
        text.encode() + f"|engine={ENGINE_VERSION}{mapped}".encode()).hexdigest()
    data["rules_version"] = digest[:12]
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        tree = yaml.compose(text)
        raise ConfigError(f"config {source}: " + "; ".join(
            _explain(error, tree) for error in exc.errors())) from None


def _load_mapping(where: str, spec: object, base: Path) -> HeaderMapping | None:
    """routing.yml's `mapping:` (or --mapping) loaded and checked against the contracts,
    so a mapping typo stops every command in one line, like a routing.yml one."""
    if spec is None:
        return None
    try:
        if isinstance(spec, dict):
            return parse_mapping(spec, f"{where} (mapping)")
        if isinstance(spec, str):
            return load_mapping(spec, base=base)
    except MappingError as exc:
        raise ConfigError(f"{where}: `mapping`: {exc}") from None
    raise ConfigError(f"{where}: `mapping` must be a preset name, a file or a "
                      "mapping of entities")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """": line 3: expected ... (while parsing a flow sequence that starts on line 2)"."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f": {exc}"
    where = f": line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
    what = exc.problem or "not valid YAML"
    if exc.context:
        started = (f" that starts on line {exc.context_mark.line + 1}"
                   if exc.context_mark else "")
        what += f" ({exc.context}{started})"
    return f"{where}: not valid YAML: {what}"


def _explain(error: ErrorDetails, tree: yaml.Node | None) -> str:
    """One pydantic error as "line 27: unknown key `high_wter` under `workload`: did you
    mean `high_water`?" (or "`workload.release` (line 29): ..." for a value)."""
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    # A check across settings names its own keys ("rules: fallback_queue must ..."): point
    # at the first key it names rather than at the section, or at nothing.
    key, colon, rest = message.partition(":")
    if error["type"] == "value_error" and colon and key in _keys_at(loc):
        loc, message = (*loc, key), rest.strip()
    line = _line_of(tree, loc)
    at = f"line {line}: " if line else ""
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        under = f" under `{_dotted(loc[:-1])}`" if loc[:-1] else ""
        keys = _keys_at(loc[:-1])
        hint = did_you_mean(key, keys) or (f" (the keys there are {', '.join(keys)})"
                                           if keys else "")
        return f"{at}unknown key `{key}`{under}{hint}"
    name = f"`{_dotted(loc)}`" if loc else "the settings"
    if error["type"] == "missing":
        return f"{at}{name} is missing"
    if error["type"] == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        return (f"{at}{name} is `{error['input']}`{did_you_mean(str(error['input']), expected)}"
                f" (one of {', '.join(expected)})")
    got = "" if error["type"].startswith("value_error") or isinstance(
        error["input"], dict | list) else f", not `{error['input']}`"
    return f"{at}{name}: {message[:1].lower()}{message[1:]}{got}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    """('rules', 2, 'name') -> rules[2].name"""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest key of ``loc`` found in the YAML tree."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and (
                0 <= part < len(node.value)):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The settings a routing.yml section accepts (list indices skipped)."""
    model: type[BaseModel] | None = RoutingConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            break
        field = model.model_fields.get(part)
        # A section with keys of the user's own (queues: their names) types them all alike.
        model = _section(field.annotation if field else
                         get_type_hints(model).get("__pydantic_extra__"))
    if model is None:
        return []
    return [name for name in model.model_fields if name != "rules_version"]


def _section(annotation: object) -> type[BaseModel] | None:
    """The settings model inside a field's type (Workload, list[Rule] -> Rule)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _section(arg)
        if found is not None:
            return found
    return None
