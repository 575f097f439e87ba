"""A realistic synthetic org in the snapshot contract: CRM, HR and territory plan.

`switchboard generate` and `switchboard demo` need an org that behaves like a real one:
mixed spellings that staging has to normalise, overlapping territories that produce real
conflicts, reps on leave or over capacity, a leaver with pipeline, and a handful of
contract-breaking rows that must be quarantined rather than stop the run. On top of the
random bulk sit fixed *story* records (Acme, Globex, the leave, overload and leaver reps,
and the overload territory whose picks drift from the weighted share)
with the same ids whatever the size, so the demo and the tests can find them.

Everything is drawn from one ``np.random.default_rng(seed)`` in a fixed order and written
with Polars, so the same arguments give byte-identical files, and a million accounts take
seconds, not minutes: every per-record step is a NumPy or Polars vector operation; Python
loops only walk the territory plan and the teams (tens to hundreds of items).

One module per job: `geography` (cells, countries, states, postal codes), `vocabulary`
(segments, industries, names, stages, skills), `plan` (teams and territories), `staff`
(who works where), `book` (the entities, drawn one after another), `stories` (the fixed
story records and ids), `defects` (deliberate bad rows), `write` (contracts, CSV and
Parquet) and `vectors` (the NumPy and Polars helpers they share). Names with a leading
underscore are the package's own; this module is its interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from switchboard.contracts import load_contracts
from switchboard.generate.book import _Builder
from switchboard.generate.defects import _break_accounts, _break_others
from switchboard.generate.stories import (
    ACME_ACCOUNT,
    ACME_LEAD,
    ACME_OPPORTUNITY,
    BACK_FROM_LEAVE_DAYS,
    GLOBEX_ACCOUNT,
    GLOBEX_SUBSIDIARY,
    INBOUND_HOURS_TERRITORY,
    INBOUND_RR_TERRITORY,
    INBOUND_SKILLS_QUEUE,
    INBOUND_SKILLS_TERRITORY,
    INBOUND_SLA_TERRITORY,
    LEAD_HOURS,
    LEAD_SKILL_DE,
    LEAD_SKILL_JA,
    LEAD_SLA,
    LEAD_SLA_SOURCE,
    REP_DANA,
    REP_LEAVE,
    REP_LEAVER,
    REP_LIGHT,
    REP_MANAGER_EAST,
    REP_NAMED,
    REP_OVER,
    ROUND_ROBIN_LEADS,
    STORY_NEW_ACCOUNTS,
    STORY_PEOPLE,
    StoryIds,
    _with_inbound_stories,
)
from switchboard.generate.vocabulary import EMAIL_DOMAIN
from switchboard.generate.write import ENTITIES, FileFormat, _as_text, _write

__all__ = [
    "ACME_ACCOUNT",
    "ACME_LEAD",
    "ACME_OPPORTUNITY",
    "BACK_FROM_LEAVE_DAYS",
    "DEFAULT_AS_OF",
    "EMAIL_DOMAIN",
    "ENTITIES",
    "GLOBEX_ACCOUNT",
    "GLOBEX_SUBSIDIARY",
    "INBOUND_HOURS_TERRITORY",
    "INBOUND_RR_TERRITORY",
    "INBOUND_SKILLS_QUEUE",
    "INBOUND_SKILLS_TERRITORY",
    "INBOUND_SLA_TERRITORY",
    "LEAD_HOURS",
    "LEAD_SKILL_DE",
    "LEAD_SKILL_JA",
    "LEAD_SLA",
    "LEAD_SLA_SOURCE",
    "MIN_ACCOUNTS",
    "MIN_REPS",
    "MIN_TERRITORIES",
    "REP_DANA",
    "REP_LEAVE",
    "REP_LEAVER",
    "REP_LIGHT",
    "REP_MANAGER_EAST",
    "REP_NAMED",
    "REP_OVER",
    "ROUND_ROBIN_LEADS",
    "STORY_NEW_ACCOUNTS",
    "STORY_PEOPLE",
    "FileFormat",
    "OrgSummary",
    "StoryIds",
    "generate_org",
]


#: The fixed "now" of a generated org when none is given, so output is reproducible.
DEFAULT_AS_OF = datetime(2026, 11, 23, 9, 0, 0)
MIN_ACCOUNTS = 200
MIN_REPS = 24
MIN_TERRITORIES = 15


@dataclass(frozen=True)
class OrgSummary:
    """What `generate_org` wrote: rows per entity, deliberate bad rows, the story ids."""

    out: Path
    file_format: FileFormat
    seed: int
    as_of: datetime
    counts: dict[str, int]
    bad_rows: dict[str, int]
    stories: StoryIds
    files: dict[str, Path] = field(default_factory=dict)

    def __str__(self) -> str:
        rows = ", ".join(f"{n:,} {entity}" for entity, n in self.counts.items())
        bad = sum(self.bad_rows.values())
        return f"{rows} ({self.file_format}, seed {self.seed}, {bad} deliberate bad rows)"


def generate_org(
    out: Path,
    accounts: int,
    seed: int = 7,
    as_of: datetime | None = None,
    leads: int | None = None,
    reps: int | None = None,
    territories: int | None = None,
    file_format: FileFormat = "csv",
    bad_rows: bool = True,
    progress: Callable[[str], None] | None = None,
    inbound_stories: bool = False,
    activities_per_account: float | None = None,
) -> OrgSummary:
    """Write a synthetic org snapshot into `out`, one file per contract entity.

    Same arguments, same bytes. Defaults scale with `accounts`: leads = accounts/10,
    reps = max(24, accounts/1000), territories = max(15, reps/5). Timestamps are relative
    to `as_of` (default DEFAULT_AS_OF; an aware datetime is converted to naive UTC).

    `bad_rows` turns a handful of generic rows into contract violations the ingest must
    quarantine (or, for the optional employees and tier, clear), whatever the size: in
    accounts an empty account_id, employees "lots", a duplicate account_id (a copy under
    another name), created_at "not-a-date" and tier 7;
    in leads the e-mail "not-an-email"; in hr an extra row with status "retired". A typed
    Parquet file cannot hold text in a number or timestamp column, so there employees is
    -40 and created_at is empty instead. Story records are never the bad ones.

    Files of the other format for the same entities are removed, so the folder is one
    unambiguous snapshot. `progress` is called once per entity written. `inbound_stories`
    adds the demo's working-hours, skills and round-robin stories (_with_inbound_stories).

    Activities sit on ~20% of the owned accounts, about half an activity per account of
    the book; `activities_per_account` spreads that many per account instead (on average,
    over every owned account), for a book with a full activity history. The default draws
    are unchanged whatever it says, as the activities are drawn last.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be csv or parquet, got {file_format!r}")
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"accounts must be at least {MIN_ACCOUNTS}, got {accounts}")
    leads = accounts // 10 if leads is None else leads
    reps = max(MIN_REPS, accounts // 1000) if reps is None else reps
    territories = max(MIN_TERRITORIES, reps // 5) if territories is None else territories
    if leads < 2:
        raise ValueError(f"leads must be at least 2 (the story lead and one more), got {leads}")
    if reps < MIN_REPS:
        raise ValueError(f"reps must be at least {MIN_REPS}, got {reps}")
    if activities_per_account is not None and not activities_per_account >= 0:
        raise ValueError(
            f"activities_per_account must be a number of at least 0, got {activities_per_account}"
        )
    if as_of is None:
        as_of = DEFAULT_AS_OF
    elif as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    as_of = as_of.replace(microsecond=0)

    builder = _Builder(
        accounts=accounts,
        leads=leads,
        reps=reps,
        territories=territories,
        seed=seed,
        as_of=as_of,
        activities_per_account=activities_per_account,
    )
    frames = builder.build()
    if inbound_stories:
        frames = _with_inbound_stories(frames, as_of)
    contracts = load_contracts()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    other = "parquet" if file_format == "csv" else "csv"
    counts: dict[str, int] = {}
    files: dict[str, Path] = {}
    bad_counts = {"accounts": 5, "leads": 1, "hr": 1} if bad_rows else {}
    as_text = file_format == "csv"
    for entity, typed in frames.items():
        frame = _as_text(typed, contracts[entity]) if as_text else typed
        if bad_rows and entity == "accounts":
            frame = _break_accounts(frame, builder.bad, as_text)
        elif bad_rows:
            frame = _break_others(entity, frame, builder.bad_lead, as_text, as_of)
        path = out / f"{entity}.{file_format}"
        (out / f"{entity}.{other}").unlink(missing_ok=True)
        _write(frame, path, file_format)
        counts[entity], files[entity] = frame.height, path
        if progress is not None:
            progress(f"{entity}: {frame.height:,} rows")
    return OrgSummary(
        out=out,
        file_format=file_format,
        seed=seed,
        as_of=as_of,
        counts=counts,
        bad_rows=bad_counts,
        stories=builder.stories(),
        files=files,
    )
