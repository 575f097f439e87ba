"""The demo stories: the fixed ids present in every generated org, the story people and
records, where the stories happen (`StoryIds`), and the demo's inbound-lead stories.

`switchboard/stories.py` reads each story's outcome back from the routing log by these
ids. A story is its ids here, its records (a function below, or rows the builder seats
where the story needs them), and a row in `switchboard/stories.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from switchboard.contracts import load_contracts
from switchboard.generate.plan import _slug
from switchboard.generate.vectors import _DAY, _YEAR, _ago
from switchboard.generate.vocabulary import EMAIL_DOMAIN
from switchboard.generate.write import _conform

# Story records: fixed ids, present in every generated org.
ACME_ACCOUNT = "ACC-ACME"
ACME_OPPORTUNITY = "OPP-ACME-1"
ACME_LEAD = "LEAD-ACME-CA"
GLOBEX_ACCOUNT = "ACC-GLOBEX"
GLOBEX_SUBSIDIARY = "ACC-GLOBEX-EU"
REP_DANA = "REP-DANA"
REP_NAMED = "REP-NAMED"
REP_LEAVE = "REP-LEAVE"
REP_OVER = "REP-OVER"
REP_LIGHT = "REP-LIGHT"
REP_LEAVER = "REP-LEAVER"
REP_MANAGER_EAST = "REP-MGR-EAST"
STORY_NEW_ACCOUNTS = 5  # new unowned accounts in each of the leave and overload territories
BACK_FROM_LEAVE_DAYS = 3  # REP-LIGHT came back from nine days of leave this many days ago


@dataclass(frozen=True)
class StoryIds:
    """Where the demo stories live: fixed ids plus the ids that depend on the plan.

    The territory ids and the generated account ids change with the size of the org (a
    bigger plan splits regions), so tests and the demo read them from here instead of
    guessing.
    """

    acme_territory: str
    acme_lead_territory: str
    named_subsidiary_territory: str
    leave_territory: str
    leave_new_accounts: tuple[str, ...]
    overload_territory: str
    overload_new_accounts: tuple[str, ...]
    leaver_territory: str
    leaver_accounts: tuple[str, ...]
    acme_account: str = ACME_ACCOUNT
    acme_opportunity: str = ACME_OPPORTUNITY
    acme_lead: str = ACME_LEAD
    acme_owner: str = REP_DANA
    named_parent: str = GLOBEX_ACCOUNT
    named_subsidiary: str = GLOBEX_SUBSIDIARY
    named_owner: str = REP_NAMED
    leave_rep: str = REP_LEAVE
    overloaded_rep: str = REP_OVER
    light_rep: str = REP_LIGHT
    leaver_rep: str = REP_LEAVER
    leaver_manager: str = REP_MANAGER_EAST


# ---------------------------------------------------------------------------------------
# Story people and records: the same in every generated org
# ---------------------------------------------------------------------------------------

# The story reps' names (their e-mail is the name, dotted, at EMAIL_DOMAIN).
STORY_PEOPLE = {
    REP_DANA: "Dana East",
    REP_NAMED: "Nina Named",
    REP_LEAVE: "Lee Leave",
    REP_OVER: "Olivia Over",
    REP_LIGHT: "Liam Light",
    REP_LEAVER: "Pat Leaver",
    REP_MANAGER_EAST: "Morgan Eastman",
}


def story_accounts(now: np.datetime64) -> pl.DataFrame:
    """Acme (Dana's; its open opportunity is `story_opportunities`), Globex (on the named
    list, Nina's) and Globex Europe, Globex's new subsidiary that nobody owns yet."""
    return pl.DataFrame(
        {
            "account_id": [ACME_ACCOUNT, GLOBEX_ACCOUNT, GLOBEX_SUBSIDIARY],
            "name": ["Acme Corp", "Globex Corporation", "Globex Europe GmbH"],
            "created_at": _ago(now, np.array([2 * _YEAR, 1000 * _DAY, 20 * 60])),
            "domain": ["acme.com", "https://www.globex.com", "globex.de"],
            "parent_account_id": [None, None, GLOBEX_ACCOUNT],
            "country": ["US", "US", "DE"],
            "state": ["NY", "IL", None],
            "postal_code": ["10001", "60606", "60311"],
            "industry": ["Manufacturing", "Energy", "Energy"],
            "employees": [5000, 12000, 1500],
            "annual_revenue": [1_200_000_000.0, 3_400_000_000.0, 410_000_000.0],
            "tier": [1, 1, 2],
            "owner_id": [REP_DANA, REP_NAMED, None],
        }
    )


def story_opportunities(now: np.datetime64) -> pl.DataFrame:
    """Acme's $180K open opportunity, owned by Dana."""
    return pl.DataFrame(
        {
            "opportunity_id": [ACME_OPPORTUNITY],
            "account_id": [ACME_ACCOUNT],
            "owner_id": [REP_DANA],
            "stage": ["Proposal"],
            "is_closed": [False],
            "amount": [180_000.0],
            "created_at": _ago(now, np.array([45 * _DAY])),
            "closed_at": pl.Series([None], dtype=pl.Datetime("us")),
        }
    )


def story_leads(now: np.datetime64) -> pl.DataFrame:
    """Acme's new lead, from an address in California: its territory is not its account's."""
    return pl.DataFrame(
        {
            "lead_id": [ACME_LEAD],
            "email": ["jane.doe@acme.com"],
            "created_at": _ago(now, np.array([30 * 60])),
            "company": ["Acme Corp"],
            "domain": [None],
            "country": ["US"],
            "state": ["CA"],
            "postal_code": ["94105"],
            "industry": ["Manufacturing"],
            "employees": [5000],
            "source": ["Web"],
            "account_id": [None],
            "owner_id": [None],
        }
    )


def story_named_accounts() -> pl.DataFrame:
    """Globex on the named list."""
    return pl.DataFrame(
        {
            "account_id": [GLOBEX_ACCOUNT],
            "owner_id": [REP_NAMED],
            "tier": [1],
            "program": ["Strategic"],
        }
    )


# ---------------------------------------------------------------------------------------
# Inbound-lead stories (the demo): working hours, skills, a round-robin territory
# ---------------------------------------------------------------------------------------

# Industries no generated record has, so only the story territories match the story leads
# (which carry no country: every generated territory names countries).
INBOUND_HOURS_TERRITORY = "T-INBOUND-HOURS"
INBOUND_SKILLS_TERRITORY = "T-INBOUND-SKILLS"
INBOUND_RR_TERRITORY = "T-INBOUND-RR"
INBOUND_SLA_TERRITORY = "T-INBOUND-SLA"
INBOUND_SKILLS_QUEUE = "queue-inbound-desk"
LEAD_HOURS = "LEAD-HOURS"
LEAD_SKILL_DE = "LEAD-SKILL-DE"
LEAD_SKILL_JA = "LEAD-SKILL-JA"
# A demo request nobody touches: the shipped routing.yml's first-touch SLA covers its source.
LEAD_SLA = "LEAD-SLA"
LEAD_SLA_SOURCE = "Demo Request"
ROUND_ROBIN_LEADS = 8
_OFFICE_HOURS = "Mon-Fri 09:00-17:30"

# rep_id: name, time zone, working hours, skills
_INBOUND_REPS: dict[str, tuple[str, str | None, str | None, list[str]]] = {
    "REP-BERLIN": ("Ana Silva", "Europe/Berlin", _OFFICE_HOURS, ["German", "English"]),
    "REP-NEWYORK": ("Ned Park", "America/New_York", _OFFICE_HOURS, ["English"]),
    "REP-DESK-DE": ("Dana Weber", None, None, ["DE", "Security"]),
    "REP-DESK-EN": ("Eli Brooks", None, None, ["EN", "Cloud"]),
    "REP-RR-1": ("Rae Quinn", None, None, []),
    "REP-RR-2": ("Sam Ortiz", None, None, []),
    "REP-RR-3": ("Tia Novak", None, None, []),
    "REP-SLA-1": ("Lena Moss", None, None, []),
    "REP-SLA-2": ("Omar Reed", None, None, []),
}
# The SLA desk reports to Morgan Eastman, who hears of its missed first touches.
_INBOUND_MANAGERS = {"REP-SLA-1": REP_MANAGER_EAST, "REP-SLA-2": REP_MANAGER_EAST}
# territory_id: name, industry, method, overflow queue, members with weights
_INBOUND_TERRITORIES: dict[str, tuple[str, str, str, str | None, dict[str, float]]] = {
    INBOUND_HOURS_TERRITORY: (
        "Inbound follow-the-sun",
        "Quantum Computing",
        "workload",
        None,
        {"REP-BERLIN": 1.0, "REP-NEWYORK": 1.0},
    ),
    INBOUND_SKILLS_TERRITORY: (
        "Inbound desk",
        "Space Systems",
        "workload",
        INBOUND_SKILLS_QUEUE,
        {"REP-DESK-DE": 1.0, "REP-DESK-EN": 1.0},
    ),
    INBOUND_RR_TERRITORY: (
        "Inbound round robin",
        "Service Robotics",
        "round_robin",
        None,
        {"REP-RR-1": 2.0, "REP-RR-2": 1.0, "REP-RR-3": 1.0},
    ),
    INBOUND_SLA_TERRITORY: (
        "Inbound SLA desk",
        "Fusion Energy",
        "workload",
        None,
        {"REP-SLA-1": 1.0, "REP-SLA-2": 1.0},
    ),
}


def _with_inbound_stories(
    frames: dict[str, pl.DataFrame], as_of: datetime
) -> dict[str, pl.DataFrame]:
    """The demo's inbound stories appended to a generated org: four territories of
    their own, their reps (with HR rows) and new leads only those territories match.

    * LEAD-HOURS: Ana Silva works Berlin office hours, Ned Park New York's; whoever works
      at the as-of takes it, else whoever starts first.
    * LEAD-SKILL-DE needs de and security (Dana Weber has both); LEAD-SKILL-JA needs ja,
      which nobody in the desk has: overflow queue and a rule_gap alert.
    * Eight leads in a round-robin territory weighted 2:1:1.
    * LEAD-SLA, a demo request for a desk of two, which nobody touches: routed now, and
      re-routed to the other rep by a run after the first-touch SLA (``switchboard demo``).
    """
    reps = pl.DataFrame(
        [
            {
                "rep_id": rep_id,
                "name": name,
                "email": f"{_slug(name)}@{EMAIL_DOMAIN}",
                "role": "AE",
                "team": "Inbound",
                "segment": None,
                "manager_id": _INBOUND_MANAGERS.get(rep_id),
                "capacity": 40,
                "skills": skills,
                "timezone": zone,
                "working_hours": hours,
                "is_active": True,
            }
            for rep_id, (name, zone, hours, skills) in _INBOUND_REPS.items()
        ],
        schema=load_contracts()["reps"].polars_schema,
    )
    hr = pl.DataFrame(
        [
            {
                "email": email,
                "status": "active",
                "status_start": as_of.date() - timedelta(days=400),
                "status_end": None,
                "role": "AE",
                "updated_at": as_of - timedelta(days=30),
            }
            for email in reps["email"]
        ],
        schema=load_contracts()["hr"].polars_schema,
    )
    territories = pl.DataFrame(
        [
            {
                "territory_id": tid,
                "name": name,
                "priority": 10,
                "industries": [industry],
                "overflow_queue": queue,
                "method": method,
            }
            for tid, (name, industry, method, queue, _) in _INBOUND_TERRITORIES.items()
        ]
    )
    members = pl.DataFrame(
        [
            {"territory_id": tid, "rep_id": rep_id, "weight": weight, "is_primary": True}
            for tid, (*_, team) in _INBOUND_TERRITORIES.items()
            for rep_id, weight in team.items()
        ]
    )

    def lead(
        lead_id: str, n: int, territory: str, skills: list[str] | None = None
    ) -> dict[str, object]:
        return {
            "lead_id": lead_id,
            "email": f"buyer.{n}@inbound-story-{n}.example",
            "created_at": as_of - timedelta(minutes=30 - n),
            "company": f"Inbound Story {n} Ltd",
            "industry": _INBOUND_TERRITORIES[territory][1],
            "employees": 120,
            "source": "Web",
            "required_skills": skills,
        }

    leads = pl.DataFrame(
        [
            lead(LEAD_HOURS, 1, INBOUND_HOURS_TERRITORY),
            lead(LEAD_SKILL_DE, 2, INBOUND_SKILLS_TERRITORY, ["de", "security"]),
            lead(LEAD_SKILL_JA, 3, INBOUND_SKILLS_TERRITORY, ["ja"]),
            *[
                lead(f"LEAD-RR-{i}", 4 + i, INBOUND_RR_TERRITORY)
                for i in range(1, 1 + ROUND_ROBIN_LEADS)
            ],
            {
                **lead(LEAD_SLA, 5 + ROUND_ROBIN_LEADS, INBOUND_SLA_TERRITORY),
                "source": LEAD_SLA_SOURCE,
            },
        ]
    )
    added = {
        "reps": reps,
        "hr": hr,
        "territories": territories,
        "territory_members": members,
        "leads": leads,
    }
    return {
        entity: pl.concat([frame, _conform(added[entity], entity)]) if entity in added else frame
        for entity, frame in frames.items()
    }
