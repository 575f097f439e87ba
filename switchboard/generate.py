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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from switchboard.contracts import Contract, load_contracts

FileFormat = Literal["csv", "parquet"]

#: The fixed "now" of a generated org when none is given, so output is reproducible.
DEFAULT_AS_OF = datetime(2026, 11, 23, 9, 0, 0)
ENTITIES = (
    "accounts",
    "leads",
    "opportunities",
    "reps",
    "hr",
    "territories",
    "territory_members",
    "named_accounts",
    "activities",
)
MIN_ACCOUNTS = 200
MIN_REPS = 24
MIN_TERRITORIES = 15
EMAIL_DOMAIN = "example-corp.com"

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

_HOUR = 3600
_DAY = 86_400
_YEAR = 365 * _DAY

# ---------------------------------------------------------------------------------------
# Reference lists
# ---------------------------------------------------------------------------------------

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
ENT, MM, SMB = 0, 1, 2
_SEGMENT_P = np.array([0.12, 0.26, 0.62])
# Relative effort of an account per segment: an Enterprise book is smaller than an SMB one,
# so teams are staffed by effort, not by account count.
_SEGMENT_EFFORT = np.array([3.0, 1.5, 1.0])
# P(tier 1), P(tier 2), P(tier 3) by segment: tier 3 (long tail) is the most common overall.
_TIER_P = np.array([[0.35, 0.45, 0.20], [0.08, 0.40, 0.52], [0.01, 0.14, 0.85]])

INDUSTRIES = (
    "Software",
    "Healthcare",
    "Financial Services",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Energy",
    "Telecommunications",
    "Government",
    "Transportation",
    "Hospitality",
)
_INDUSTRY_P = np.array([0.14, 0.11, 0.10, 0.13, 0.10, 0.06, 0.06, 0.05, 0.05, 0.04, 0.07, 0.09])
# Revenue per employee relative to the median, by industry.
_INDUSTRY_REVENUE = np.array([1.4, 1.0, 1.8, 1.1, 0.7, 0.4, 1.0, 2.0, 1.3, 0.5, 0.9, 0.4])
# Industries no overlay territory claims: story records use these so their territory is
# the geographic one the story names.
_PLAIN_INDUSTRIES = np.array(
    [
        INDUSTRIES.index(n)
        for n in (
            "Manufacturing",
            "Retail",
            "Media",
            "Energy",
            "Transportation",
            "Hospitality",
            "Telecommunications",
        )
    ]
)

REGIONS = ("NA-West", "NA-East", "NA-Central", "Canada", "EMEA", "APAC")
OUTSIDE = len(REGIONS)  # region index of countries outside every territory
_REGION_CODES = ("NAW", "NAE", "NAC", "CAN", "EMEA", "APAC")
# The last share is the rest of the world: accounts no territory covers (rule gaps).
_REGION_SHARE = np.array([0.21, 0.24, 0.21, 0.06, 0.17, 0.09, 0.004])
_US_REGIONS = (0, 1, 2)
_THEATRES = ("NA-West", "NA-East", "NA-Central", "International")
_REGION_THEATRE = (0, 1, 2, 3, 3, 3)

# fmt: off
# US states: code, name, region, relative business population, 3-digit ZIP prefix range.
_US_STATES: tuple[tuple[str, str, int, float, int, int], ...] = (
    ("CA", "California", 0, 12.0, 900, 961),
    ("WA", "Washington", 0, 2.5, 980, 994),
    ("OR", "Oregon", 0, 1.3, 970, 979),
    ("NV", "Nevada", 0, 1.0, 889, 898),
    ("AZ", "Arizona", 0, 2.3, 850, 865),
    ("CO", "Colorado", 0, 1.9, 800, 816),
    ("UT", "Utah", 0, 1.1, 840, 847),
    ("ID", "Idaho", 0, 0.6, 832, 838),
    ("NM", "New Mexico", 0, 0.6, 870, 884),
    ("MT", "Montana", 0, 0.3, 590, 599),
    ("WY", "Wyoming", 0, 0.2, 820, 831),
    ("HI", "Hawaii", 0, 0.4, 967, 968),
    ("AK", "Alaska", 0, 0.2, 995, 999),
    ("NY", "New York", 1, 7.0, 100, 149),
    ("MA", "Massachusetts", 1, 2.3, 10, 27),
    ("NJ", "New Jersey", 1, 3.0, 70, 89),
    ("PA", "Pennsylvania", 1, 4.0, 150, 196),
    ("FL", "Florida", 1, 7.0, 320, 349),
    ("GA", "Georgia", 1, 3.5, 300, 319),
    ("VA", "Virginia", 1, 2.7, 220, 246),
    ("NC", "North Carolina", 1, 3.0, 270, 289),
    ("MD", "Maryland", 1, 1.9, 206, 219),
    ("CT", "Connecticut", 1, 1.1, 60, 69),
    ("SC", "South Carolina", 1, 1.6, 290, 299),
    ("DC", "District of Columbia", 1, 0.3, 200, 205),
    ("VT", "Vermont", 1, 0.2, 50, 59),
    ("NH", "New Hampshire", 1, 0.4, 30, 38),
    ("ME", "Maine", 1, 0.4, 39, 49),
    ("RI", "Rhode Island", 1, 0.3, 28, 29),
    ("DE", "Delaware", 1, 0.3, 197, 199),
    ("WV", "West Virginia", 1, 0.5, 247, 268),
    ("TX", "Texas", 2, 9.0, 750, 799),
    ("IL", "Illinois", 2, 4.0, 600, 629),
    ("OH", "Ohio", 2, 3.5, 430, 459),
    ("MN", "Minnesota", 2, 1.8, 550, 567),
    ("MI", "Michigan", 2, 3.0, 480, 499),
    ("WI", "Wisconsin", 2, 1.8, 530, 549),
    ("MO", "Missouri", 2, 1.9, 630, 658),
    ("IN", "Indiana", 2, 2.0, 460, 479),
    ("TN", "Tennessee", 2, 2.2, 370, 385),
    ("KY", "Kentucky", 2, 1.3, 400, 427),
    ("LA", "Louisiana", 2, 1.4, 700, 714),
    ("OK", "Oklahoma", 2, 1.2, 730, 749),
    ("KS", "Kansas", 2, 0.9, 660, 679),
    ("NE", "Nebraska", 2, 0.6, 680, 693),
    ("IA", "Iowa", 2, 0.9, 500, 528),
    ("AR", "Arkansas", 2, 0.9, 716, 729),
    ("AL", "Alabama", 2, 1.5, 350, 369),
    ("MS", "Mississippi", 2, 0.9, 386, 397),
    ("SD", "South Dakota", 2, 0.3, 570, 577),
    ("ND", "North Dakota", 2, 0.25, 580, 588),
)
# Canadian provinces: code, name, first letters of their postal codes with weights.
_CA_PROVINCES: tuple[tuple[str, str, tuple[tuple[str, float], ...]], ...] = (
    ("BC", "British Columbia", (("V", 10.0),)),
    ("AB", "Alberta", (("T", 8.0),)),
    ("SK", "Saskatchewan", (("S", 2.0),)),
    ("MB", "Manitoba", (("R", 2.5),)),
    ("ON", "Ontario", (("P", 1.0), ("N", 3.0), ("M", 9.0), ("L", 5.0), ("K", 3.0))),
    ("QC", "Quebec", (("J", 3.0), ("H", 7.0), ("G", 3.0))),
    ("NB", "New Brunswick", (("E", 1.0),)),
    ("NS", "Nova Scotia", (("B", 2.0),)),
    ("NL", "Newfoundland and Labrador", (("A", 0.7),)),
)
# fmt: on
_STATE_NAMES = {code: name for code, name, *_ in _US_STATES} | {
    code: name for code, name, _ in _CA_PROVINCES
}

# alpha-2: (alpha-3, name, web suffix, legal forms, subsidiary tag, postal format)
_COUNTRIES: dict[str, tuple[str, str, str, tuple[str, ...], str, str]] = {
    "US": ("USA", "United States", "com", ("Inc", "LLC", "Corp", "Inc"), "US", "us"),
    "CA": ("CAN", "Canada", "ca", ("Inc", "Ltd", "Corp"), "Canada", "ca"),
    "GB": ("GBR", "United Kingdom", "co.uk", ("Ltd", "Ltd", "PLC"), "UK", "gb"),
    "DE": ("DEU", "Germany", "de", ("GmbH", "GmbH", "AG"), "Deutschland", "num5"),
    "FR": ("FRA", "France", "fr", ("SAS", "SA"), "France", "num5"),
    "NL": ("NLD", "Netherlands", "nl", ("BV", "NV"), "Nederland", "nl"),
    "ES": ("ESP", "Spain", "es", ("SA",), "Iberia", "num5"),
    "IT": ("ITA", "Italy", "it", ("Srl", "SpA"), "Italia", "num5"),
    "IE": ("IRL", "Ireland", "ie", ("Ltd",), "Ireland", "ie"),
    "SE": ("SWE", "Sweden", "se", ("AB",), "Nordic", "se"),
    "CH": ("CHE", "Switzerland", "ch", ("AG", "GmbH", "SA"), "Schweiz", "num4"),
    "AT": ("AUT", "Austria", "at", ("GmbH",), "Austria", "num4"),
    "BE": ("BEL", "Belgium", "be", ("NV", "SRL"), "Benelux", "num4"),
    "AU": ("AUS", "Australia", "com.au", ("Pty Ltd",), "Australia", "num4"),
    "JP": ("JPN", "Japan", "co.jp", ("KK",), "Japan", "jp"),
    "SG": ("SGP", "Singapore", "sg", ("Ltd",), "Asia Pacific", "num6"),
    "IN": ("IND", "India", "in", ("Pvt Ltd",), "India", "num6"),
    "NZ": ("NZL", "New Zealand", "co.nz", ("Ltd",), "New Zealand", "num4"),
    "BR": ("BRA", "Brazil", "com.br", ("SA",), "Brasil", "br"),
    "ZA": ("ZAF", "South Africa", "co.za", ("Pty Ltd",), "South Africa", "num4"),
    "MX": ("MEX", "Mexico", "com.mx", ("SA",), "Mexico", "num5"),
    "AE": ("ARE", "United Arab Emirates", "ae", ("LLC",), "Middle East", "none"),
}
# Countries of the regions that are split by country (and, if need be, by postal prefix):
# (alpha-2, weight, cells as (state, postal prefix, weight)).
_DIGITS = tuple(str(d) for d in range(10))
_GB_AREAS = ("SW", "EC", "NW", "SE", "M", "B", "LS", "G", "EH", "CB", "OX", "RG", "CF")


def _digit_cells(first: int = 0, last: int = 9) -> tuple[tuple[str, str, float], ...]:
    return tuple(("", str(d), 1.0 + ((d * 7) % 5) / 4) for d in range(first, last + 1))


_COUNTRY_REGIONS: dict[int, tuple[tuple[str, float, tuple[tuple[str, str, float], ...]], ...]] = {
    4: (
        ("GB", 25.0, tuple(("", a, 1.0 + (i % 3)) for i, a in enumerate(_GB_AREAS))),
        ("IE", 4.0, (("", "", 1.0),)),
        ("FR", 15.0, _digit_cells()),
        ("BE", 3.0, _digit_cells(1)),
        ("NL", 8.0, _digit_cells(1)),
        ("DE", 22.0, _digit_cells()),
        ("AT", 2.0, _digit_cells(1)),
        ("CH", 4.0, _digit_cells(1)),
        ("IT", 7.0, _digit_cells()),
        ("ES", 7.0, _digit_cells(0, 5)),
        ("SE", 4.0, (("", "", 1.0),)),
    ),
    5: (
        ("IN", 20.0, _digit_cells(1, 8)),
        ("SG", 12.0, (("", "", 1.0),)),
        ("JP", 25.0, _digit_cells()),
        (
            "AU",
            30.0,
            (
                ("WA", "6", 3.0),
                ("SA", "5", 2.0),
                ("VIC", "3", 8.0),
                ("NSW", "2", 10.0),
                ("QLD", "4", 5.0),
            ),
        ),
        ("NZ", 5.0, (("", "", 1.0),)),
    ),
    OUTSIDE: (
        ("BR", 40.0, (("", "", 1.0),)),
        ("ZA", 25.0, (("", "", 1.0),)),
        ("MX", 20.0, (("", "", 1.0),)),
        ("AE", 15.0, (("", "", 1.0),)),
    ),
}

# fmt: off
# Company names: head + tail make a stem ("Bluestone"), then an optional qualifier and a
# descriptor ("Bluestone Pacific Analytics"), then a legal form by country.
_NAME_HEADS = (
    "Blue", "North", "Silver", "Bright", "Red", "Green", "Iron", "Clear", "Swift", "Summit",
    "Golden", "Cedar", "Oak", "Pine", "Maple", "River", "Stone", "Harbor", "Eagle", "Falcon",
    "Atlas", "Nova", "Apex", "Vertex", "Lumen", "Solar", "Polar", "Crystal", "Granite",
    "Prairie", "Coastal", "Sky", "Sun", "Moon", "Star", "Wind", "Fire", "Ocean", "Lake",
    "Frost", "Amber", "Copper", "Cobalt", "Indigo", "Scarlet", "Ivory", "Onyx", "Jade",
    "Birch", "Willow", "Aspen", "Rapid", "True", "Bold", "Quiet", "Grand", "High", "Deep",
    "Far", "West", "East", "South", "Crown", "Anchor", "Beacon", "Bridge", "Canyon", "Delta",
    "Ember", "Forge", "Glacier", "Haven", "Keystone", "Lattice", "Meridian", "Orbit", "Pioneer",
    "Quarry", "Raven", "Sterling",
)
_NAME_TAILS = (
    "stone", "field", "bridge", "wave", "point", "peak", "gate", "line", "forge", "path",
    "crest", "view", "wood", "works", "light", "spring", "brook", "ridge", "core", "port",
    "wing", "mark", "well", "haven", "shore", "vale", "ford", "hill", "land", "water",
    "star", "leaf", "rock", "side", "tide", "way", "yard", "bay", "cliff", "dale",
    "fall", "glen", "grove", "hurst", "keep", "mont", "moor", "rise", "run", "ton",
)
_NAME_DESCRIPTORS = (
    "Analytics", "Systems", "Logistics", "Health", "Foods", "Energy", "Labs", "Software",
    "Partners", "Capital", "Media", "Manufacturing", "Solutions", "Networks", "Robotics",
    "Pharma", "Materials", "Devices", "Dynamics", "Consulting", "Industries", "Technologies",
    "Holdings", "Group", "Ventures", "Motors", "Retail", "Brands", "Bio", "Data", "Cloud",
    "Security", "Telecom", "Learning", "Freight", "Construction", "Insurance", "Financial",
    "Realty", "Hospitality", "Outfitters", "Studios", "Textiles", "Chemicals", "Aerospace",
    "Medical", "Power", "Water", "Foods Group", "Interactive",
)
_NAME_QUALIFIERS = (
    "Global", "International", "Pacific", "Atlantic", "Northern", "Southern", "Western",
    "Eastern", "United", "National", "Premier", "First", "Advanced", "Integrated", "Applied",
    "Digital", "Modern", "Metro", "Continental", "Central", "Coast", "Valley", "Mountain",
    "Urban", "Prime", "Allied", "Summit", "Frontier", "Heritage", "Liberty", "Pinnacle",
    "Vanguard", "Keystone", "Harbor", "Cardinal", "Patriot", "Evergreen", "Redwood",
    "Horizon", "Meridian",
)
_FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra",
    "Mark", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin",
    "Melissa", "Brian", "Stephanie", "Priya", "Wei", "Hiroshi", "Yuki", "Sofia", "Lucas",
    "Emma", "Noah", "Olga", "Mateo", "Aisha", "Omar", "Chloe", "Liam", "Ingrid", "Lars",
    "Camille", "Louis", "Hannah", "Felix", "Marta", "Diego", "Ananya", "Rahul", "Mei",
    "Kenji", "Grace", "Ethan", "Zoe", "Isaac", "Nadia", "Tomas",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Patel", "Sharma", "Chen", "Wang", "Kim", "Tanaka", "Suzuki", "Mueller", "Schmidt",
    "Schneider", "Dubois", "Moreau", "Rossi", "Bianchi", "Jansen", "de Vries", "Andersson",
    "Nilsson", "Murphy", "Kelly", "O'Brien", "Novak", "Kowalski", "Silva", "Costa", "Singh",
)
_PERSONAL_DOMAINS = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
    "proton.me", "gmx.de",
)
_LEAD_SOURCES = ("Web", "Paid Search", "Event", "Webinar", "Partner")
_LEAD_SOURCE_P = np.array([0.35, 0.20, 0.15, 0.15, 0.15])
_OPEN_STAGES = ("Prospecting", "Discovery", "Proposal", "Negotiation")
_OPEN_STAGE_P = np.array([0.30, 0.30, 0.25, 0.15])
_CLOSED_STAGES = ("Closed Won", "Closed Lost")
_ACTIVITY_TYPES = ("call", "email", "meeting")
_ACTIVITY_P = np.array([0.40, 0.45, 0.15])
_SKILLS = (
    "German", "French", "Spanish", "Dutch", "Japanese", "Mandarin", "Hindi",
    "Healthcare", "Financial Services", "Public Sector", "Software", "Manufacturing",
    "Negotiation", "Channel Partners", "Coaching", "Forecasting",
)

# fmt: on

# ---------------------------------------------------------------------------------------
# Public results
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Geography: cells are the atoms territories are cut from
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geo:
    """Every place an account can be: one cell per (country, state, postal prefix)."""

    region: np.ndarray  # int: index into REGIONS, OUTSIDE for the rest of the world
    country: np.ndarray  # str: ISO alpha-2
    state: np.ndarray  # str: subdivision code, "" when none
    prefix: np.ndarray  # str: postal-code prefix of the cell, "" when the country is one cell
    fmt: np.ndarray  # str: postal-code format
    unit: np.ndarray  # str: what a region splits on first (state in NA/Canada, else country)
    p: np.ndarray  # float: probability that an account sits in the cell
    # Integer codes of the same, so per-record work never touches NumPy string arrays.
    country_idx: np.ndarray  # into COUNTRY_CODES
    state_idx: np.ndarray  # into STATE_CODES ("" first)
    fmt_idx: np.ndarray  # into _POSTAL_FORMATS


COUNTRY_CODES = tuple(_COUNTRIES)
_POSTAL_FORMATS = ("us", "ca", "gb", "ie", "nl", "se", "jp", "br", "num4", "num5", "num6", "none")


@cache
def _geo() -> _Geo:
    """Build the cell table once; it is constant and independent of the seed."""
    rows: list[tuple[int, str, str, str, str, str, float]] = []
    for code, _name, region, weight, low, high in _US_STATES:
        prefixes = np.arange(low, high + 1)
        w = 1.0 + ((prefixes * 37) % 11) / 5.0  # a few busier metros per state
        w = w / w.sum() * weight
        rows += [
            (region, "US", code, f"{p:03d}", "us", code, float(x))
            for p, x in zip(prefixes, w, strict=True)
        ]
    for code, _name, letters in _CA_PROVINCES:
        rows += [(3, "CA", code, letter, "ca", code, w) for letter, w in letters]
    for region, countries in _COUNTRY_REGIONS.items():
        for country, weight, cells in countries:
            total = sum(w for *_, w in cells)
            fmt = _COUNTRIES[country][5]
            rows += [
                (region, country, state, prefix, fmt, country, weight * w / total)
                for state, prefix, w in cells
            ]
    regions = np.array([r[0] for r in rows])
    weights = np.array([r[6] for r in rows])
    state_codes = _state_codes()
    p = np.zeros(len(rows))
    for r in range(OUTSIDE + 1):
        mask = regions == r
        p[mask] = weights[mask] / weights[mask].sum() * _REGION_SHARE[r]
    return _Geo(
        region=regions,
        country=np.array([r[1] for r in rows]),
        state=np.array([r[2] for r in rows]),
        prefix=np.array([r[3] for r in rows]),
        fmt=np.array([r[4] for r in rows]),
        unit=np.array([r[5] for r in rows]),
        p=p / p.sum(),
        country_idx=np.array([COUNTRY_CODES.index(r[1]) for r in rows]),
        state_idx=np.array([state_codes.index(r[2]) for r in rows]),
        fmt_idx=np.array([_POSTAL_FORMATS.index(r[4]) for r in rows]),
    )


@cache
def _state_codes() -> tuple[str, ...]:
    """Every subdivision code in the geography, "" (no state) first."""
    states = {code for code, *_ in _US_STATES} | {code for code, *_ in _CA_PROVINCES}
    for countries in _COUNTRY_REGIONS.values():
        states |= {state for _, _, cells in countries for state, _, _ in cells if state}
    return ("", *sorted(states))


# ---------------------------------------------------------------------------------------
# The territory plan
# ---------------------------------------------------------------------------------------

# segment group -> (segments covered, min employees, max employees, id code, segment label)
_GROUPS: dict[str, tuple[tuple[int, ...], int | None, int | None, str, str | None]] = {
    "Enterprise": ((ENT,), 1000, None, "ENT", "Enterprise"),
    "Mid-Market": ((MM,), 200, 999, "MM", "Mid-Market"),
    "SMB": ((SMB,), None, 199, "SMB", "SMB"),
    "Commercial": ((MM, SMB), None, 999, "COM", "Commercial"),
    "All": ((ENT, MM, SMB), None, None, "", None),
}
_SPLIT_GROUP = {"All": ("Enterprise", "Commercial"), "Commercial": ("Mid-Market", "SMB")}
_BASE_LAYOUT: dict[int, list[str]] = {
    0: ["Enterprise", "Mid-Market", "SMB"],
    1: ["Enterprise", "Mid-Market", "SMB"],
    2: ["Enterprise", "Mid-Market", "SMB"],
    3: ["All"],
    4: ["Enterprise", "Commercial"],
    5: ["All"],
}
_BASE_OVERLAYS = ["healthcare_na", "software_na_west"]
# Each step adds one territory; bigger plans then split regions by state / postal prefix.
_REFINEMENTS: tuple[tuple[str, ...], ...] = (
    ("overlay", "financial_services_emea"),
    ("split", "4", "Commercial"),
    ("split", "5", "All"),
    ("split", "5", "Commercial"),
    ("split", "3", "All"),
    ("split", "3", "Commercial"),
    ("overlay", "public_sector_na"),
    ("overlay", "dach_mid_market"),
)


@dataclass
class _Territory:
    territory_id: str
    name: str
    priority: int
    segment: str | None
    countries: tuple[str, ...] | None
    states: tuple[str, ...] | None = None
    postal_prefixes: tuple[str, ...] | None = None
    industries: tuple[str, ...] | None = None
    min_employees: int | None = None
    max_employees: int | None = None
    overflow_queue: str = ""
    team: int = -1  # index of the geographic team; -1 for overlays
    cells: np.ndarray | None = None  # geographic territories: the cells they cover
    weight: float = 0.0  # share of the team's effort (geographic territories)
    sources: tuple[tuple[int, int], ...] = ()  # overlays: (region, segment) to staff from
    skill: str | None = None  # overlays: the specialism their members carry

    @property
    def specificity(self) -> int:
        """Criteria that are set, counted like stg_plan__territories (bands once each)."""
        lists = (self.countries, self.states, self.postal_prefixes, self.industries)
        band = self.min_employees is not None or self.max_employees is not None
        return sum(bool(x) for x in lists) + int(band)


@dataclass
class _Team:
    name: str
    region: int
    group: str
    weight: float
    territories: list[int] = field(default_factory=list)
    size: int = 0
    offset: int = 0  # first rep index of the team

    @property
    def segments(self) -> tuple[int, ...]:
        return _GROUPS[self.group][0]

    @property
    def label(self) -> str | None:
        return _GROUPS[self.group][4]


@dataclass
class _Plan:
    teams: list[_Team]
    territories: list[_Territory]
    # territory index for (cell, segment); -1 where no geographic territory covers it
    lookup: np.ndarray


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _team_name(region: int, group: str) -> str:
    return REGIONS[region] if group == "All" else f"{REGIONS[region]} {group}"


def _overlay(key: str, geo: _Geo) -> _Territory:
    """The overlay territories: specialist teams on top of the geographic plan."""

    def states_of(region: int) -> tuple[str, ...]:
        return tuple(dict.fromkeys(geo.state[geo.region == region]))

    def countries_of(region: int) -> tuple[str, ...]:
        return tuple(sorted(set(geo.country[geo.region == region])))

    if key == "healthcare_na":  # wins over geography (lower priority number)
        return _Territory(
            "T-OVL-HC-ENT-NA",
            "Healthcare Enterprise NA",
            50,
            "Enterprise",
            ("US",),
            industries=("Healthcare",),
            min_employees=1000,
            overflow_queue="queue-healthcare-ent-na",
            sources=((0, ENT), (1, ENT), (2, ENT)),
            skill="Healthcare",
        )
    if key == "software_na_west":  # same priority as NA-West Enterprise: a real conflict
        return _Territory(
            "T-OVL-SW-ENT-NAW",
            "NA-West Software Enterprise",
            100,
            "Enterprise",
            ("US",),
            states=states_of(0),
            industries=("Software",),
            min_employees=1000,
            overflow_queue="queue-software-ent-na-west",
            sources=((0, ENT), (0, MM), (2, ENT)),
            skill="Software",
        )
    if key == "financial_services_emea":
        return _Territory(
            "T-OVL-FS-EMEA",
            "EMEA Financial Services",
            100,
            None,
            countries_of(4),
            industries=("Financial Services",),
            min_employees=200,
            overflow_queue="queue-financial-services-emea",
            sources=((4, ENT), (4, MM)),
            skill="Financial Services",
        )
    if key == "public_sector_na":
        return _Territory(
            "T-OVL-PS-NA",
            "Public Sector NA",
            90,
            None,
            ("CA", "US"),
            industries=("Education", "Government"),
            overflow_queue="queue-public-sector-na",
            sources=((0, MM), (1, MM), (2, MM), (3, MM)),
            skill="Public Sector",
        )
    if key == "dach_mid_market":
        return _Territory(
            "T-OVL-DACH-MM",
            "DACH Mid-Market",
            100,
            "Mid-Market",
            ("AT", "CH", "DE"),
            min_employees=200,
            max_employees=999,
            overflow_queue="queue-dach-mid-market",
            sources=((4, MM),),
            skill="German",
        )
    raise KeyError(key)


def _apportion(
    weights: np.ndarray,
    total: int,
    minimum: np.ndarray,
    maximum: np.ndarray | None = None,
    *,
    even: bool = False,
) -> np.ndarray:
    """Split `total` seats by weight, each at least `minimum`, at most `maximum`.

    Highest averages: D'Hondt by default; `even` uses Sainte-Lague divisors, which give
    small parties their first seat sooner (used where small units must not be starved).
    """
    alloc = np.asarray(minimum, dtype=np.int64).copy()
    weights = np.asarray(weights, dtype=float)
    cap = np.full(len(alloc), np.iinfo(np.int64).max) if maximum is None else maximum
    for _ in range(total - int(alloc.sum())):
        divisor = 2 * alloc + 1 if even else alloc + 1
        quotient = np.where(alloc < cap, weights / divisor, -1.0)
        best = int(np.argmax(quotient))
        if quotient[best] < 0:
            raise ValueError("no room left to apportion")
        alloc[best] += 1
    return alloc


def _balanced_ranges(weights: np.ndarray, k: int) -> list[tuple[int, int]]:
    """Cut a sequence into k contiguous, non-empty ranges of about equal total weight."""
    n = len(weights)
    cum = np.cumsum(weights, dtype=float)
    cum /= cum[-1]
    step = np.arange(1, k)
    cuts = np.searchsorted(cum, step / k) + 1
    cuts = np.clip(cuts, step, n - k + step)
    cuts = np.maximum.accumulate(cuts - step) + step  # strictly increasing
    return list(pairwise([0, *cuts.tolist(), n]))


def _compress_prefixes(selected: Sequence[str], universe: Sequence[str]) -> tuple[str, ...]:
    """Write whole ZIP3 families as their ZIP2 head ("900".."909" -> "90")."""
    if not selected or len(selected[0]) != 3:
        return tuple(selected)
    family: dict[str, int] = {}
    for prefix in universe:
        family[prefix[:2]] = family.get(prefix[:2], 0) + 1
    chosen: dict[str, list[str]] = {}
    for prefix in selected:
        chosen.setdefault(prefix[:2], []).append(prefix)
    out: list[str] = []
    for head, members in chosen.items():
        out += [head] if len(members) == family[head] else members
    return tuple(out)


def _unit_groups(
    unit_w: np.ndarray, unit_cells: list[np.ndarray], k: int, geo: _Geo
) -> list[tuple[list[int], np.ndarray | None]]:
    """k groups of similar weight: (whole units, None) or (one unit, a run of its cells).

    Seats go to units by weight (Sainte-Lague). A big unit (California, the UK) with
    several seats is cut into postal-prefix runs; the other units share the remaining
    seats as contiguous runs of whole units. A group never mixes part of one unit with
    another, because postal prefixes only mean something inside one country.
    """
    seats = _apportion(
        unit_w,
        k,
        np.zeros(len(unit_w), np.int64),
        np.array([len(c) for c in unit_cells]),
        even=True,
    )
    if (seats == 0).any() and not (seats == 1).any():  # the small units need a seat
        seats[int(np.flatnonzero(seats == 0)[0])] = 1
        seats[int(np.argmax(seats))] -= 1
    rest = np.flatnonzero(seats < 2)
    groups: list[tuple[list[int], np.ndarray | None]] = []
    if len(rest):
        runs = _balanced_ranges(unit_w[rest], int(seats[rest].sum()))
        groups += [([int(u) for u in rest[a:b]], None) for a, b in runs]
    for u in np.flatnonzero(seats >= 2).tolist():
        cells = unit_cells[u]
        groups += [([u], cells[a:b]) for a, b in _balanced_ranges(geo.p[cells], int(seats[u]))]
    return sorted(groups, key=lambda g: (g[0][0], -1 if g[1] is None else int(g[1][0])))


def _geo_territories(team: _Team, k: int, geo: _Geo) -> list[_Territory]:
    """Cut a team's region into k territories of similar size (see `_unit_groups`)."""
    _, min_emp, max_emp, seg_code, label = _GROUPS[team.group]
    cells = np.flatnonzero(geo.region == team.region)
    units = list(dict.fromkeys(geo.unit[cells]))
    unit_cells = [cells[geo.unit[cells] == u] for u in units]
    unit_w = np.array([geo.p[c].sum() for c in unit_cells])
    groups = _unit_groups(unit_w, unit_cells, k, geo)
    by_state = team.region in _US_REGIONS or (team.region == 3 and k > 1)
    base_id = f"T-{_REGION_CODES[team.region]}" + (f"-{seg_code}" if seg_code else "")
    queue = f"queue-{_slug(team.name)}"
    width = max(2, len(str(k)))
    total_w = float(geo.p[cells].sum())
    out: list[_Territory] = []
    for j, (unit_idx, subset) in enumerate(groups):
        names = [units[u] for u in unit_idx]
        covered = np.concatenate([unit_cells[u] for u in unit_idx]) if subset is None else subset
        countries = tuple(sorted(set(geo.country[covered])))
        states: tuple[str, ...] | None = None
        prefixes: tuple[str, ...] | None = None
        if subset is None:
            if by_state:
                states = tuple(names)
            elif team.region not in _US_REGIONS:
                countries = tuple(sorted(names)) if team.region != 3 else ("CA",)
            place = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        else:
            cell_states = sorted({s for s in geo.state[subset] if s})
            states = tuple(cell_states) or None
            raw = list(geo.prefix[subset])
            prefixes = _compress_prefixes(raw, list(geo.prefix[unit_cells[unit_idx[0]]]))
            if states and states != (names[0],):  # a country cut by its states (Australia)
                place = f"{names[0]} {', '.join(geo.state[subset])}"
            elif len(raw) > 1:
                place = f"{names[0]} {raw[0]}-{raw[-1]}"
            else:
                place = f"{names[0]} {raw[0]}"
        out.append(
            _Territory(
                territory_id=base_id if k == 1 else f"{base_id}-{j + 1:0{width}d}",
                name=team.name if k == 1 else f"{team.name} - {place}",
                priority=100,
                segment=label,
                countries=countries,
                states=states,
                postal_prefixes=prefixes,
                min_employees=min_emp,
                max_employees=max_emp,
                overflow_queue=queue,
                team=-1,
                cells=covered,
                weight=float(geo.p[covered].sum()) / total_w,
            )
        )
    return out


def _plan(n_territories: int, geo: _Geo) -> _Plan:
    """The plan with exactly `n_territories`: geography x segment, overlays, then splits."""
    layout = {r: list(groups) for r, groups in _BASE_LAYOUT.items()}
    overlays = list(_BASE_OVERLAYS)
    count = sum(len(g) for g in layout.values()) + len(overlays)
    if n_territories < count:
        raise ValueError(f"territories must be at least {count}, got {n_territories}")
    for step in _REFINEMENTS:
        if count >= n_territories:
            break
        if step[0] == "overlay":
            overlays.append(step[1])
        else:
            region, group = int(step[1]), step[2]
            at = layout[region].index(group)
            layout[region][at : at + 1] = list(_SPLIT_GROUP[group])
        count += 1
    region_p = np.array([geo.p[geo.region == r].sum() for r in range(len(REGIONS))])
    teams = []
    for region, groups in layout.items():
        for group in groups:
            segs = list(_GROUPS[group][0])
            effort = float((_SEGMENT_P[segs] * _SEGMENT_EFFORT[segs]).sum())
            teams.append(_Team(_team_name(region, group), region, group, region_p[region] * effort))
    # Extra territories split the teams with the most work, by state and then postal prefix.
    max_splits = np.array([np.count_nonzero(geo.region == t.region) for t in teams])
    extra = n_territories - count
    if extra > int(max_splits.sum()) - len(teams):
        raise ValueError(
            f"territories: at most {int(max_splits.sum()) + len(overlays)} can be cut from "
            f"the generated geography, got {n_territories}"
        )
    splits = _apportion(
        np.array([t.weight for t in teams]), len(teams) + extra, np.ones(len(teams)), max_splits
    )
    territories: list[_Territory] = []
    lookup = np.full((len(geo.p), len(SEGMENTS)), -1, dtype=np.int64)
    for ti, (team, k) in enumerate(zip(teams, splits, strict=True)):
        for terr in _geo_territories(team, int(k), geo):
            terr.team = ti
            team.territories.append(len(territories))
            for seg in team.segments:
                lookup[terr.cells, seg] = len(territories)
            territories.append(terr)
    territories += [_overlay(key, geo) for key in overlays]
    if len(territories) != n_territories:  # a broken invariant, not a user error
        raise RuntimeError(f"territory plan has {len(territories)}, not {n_territories}")
    return _Plan(teams, territories, lookup)


# ---------------------------------------------------------------------------------------
# Vector helpers
# ---------------------------------------------------------------------------------------


def _pick(values: Sequence[str] | np.ndarray, index: np.ndarray) -> pl.Series:
    """values[index] as a String Series."""
    return pl.Series(values=list(values), dtype=pl.String).gather(index)


def _digits(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    return pl.Series(rng.integers(0, 10**width, n)).cast(pl.String).str.zfill(width)


def _letters(rng: np.random.Generator, n: int, alphabet: str) -> pl.Series:
    return _pick(list(alphabet), rng.integers(0, len(alphabet), n))


def _concat(*parts: pl.Series | str) -> pl.Series:
    """Element-wise string concatenation of Series and scalar strings."""
    return pl.select(pl.concat_str([pl.lit(p) for p in parts])).to_series()


def _choice(rng: np.random.Generator, options: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    """n draws from options with probabilities p (normalised here)."""
    return options[rng.choice(len(options), size=n, p=p / p.sum())]


def _ago(as_of: np.datetime64, seconds: np.ndarray) -> np.ndarray:
    """Timestamps `seconds` before as_of, to the second (microsecond dtype for Polars)."""
    return (as_of - np.asarray(np.round(seconds), dtype="timedelta64[s]")).astype("datetime64[us]")


def _sample_members(
    rng: np.random.Generator,
    territory: np.ndarray,
    member_territory: np.ndarray,
    member_rep: np.ndarray,
    member_weight: np.ndarray,
) -> np.ndarray:
    """For each record, a rep drawn from its territory's members in proportion to weight.

    One searchsorted over the members' cumulative weight shares offset by territory index:
    a record in territory t with draw u lands on the member whose slice of [t, t+1) holds u.
    """
    order = np.argsort(member_territory, kind="stable")
    mt, mr, mw = member_territory[order], member_rep[order], member_weight[order]
    n_terr = int(max(mt.max(), territory.max())) + 1
    totals = np.bincount(mt, weights=mw, minlength=n_terr)
    used = np.bincount(territory, minlength=n_terr) > 0
    empty = np.flatnonzero(used & (totals <= 0))
    if len(empty):
        raise ValueError(f"territories without a member to own records: {empty.tolist()}")
    before = np.cumsum(totals) - totals
    share = (np.cumsum(mw) - before[mt]) / totals[mt]
    share[np.r_[mt[1:] != mt[:-1], True]] = 1.0  # last member closes its slice exactly
    position = np.searchsorted(mt + share, territory + rng.random(len(territory)), side="right")
    return mr[np.minimum(position, len(mr) - 1)]


# ---------------------------------------------------------------------------------------
# Postal codes, spellings, names
# ---------------------------------------------------------------------------------------

_CA_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"
_GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_IE_KEYS = ("D02", "D04", "D08", "D15", "D24", "A94", "T12", "H91", "V94", "X91")


def _postal_codes(rng: np.random.Generator, cells: np.ndarray, geo: _Geo) -> pl.Series:
    """Plausible postal codes for each record's cell (US ZIPs start with the cell's ZIP3)."""
    out = pl.repeat(None, len(cells), dtype=pl.String, eager=True).alias("postal_code")
    fmt = geo.fmt_idx[cells]
    prefixes = geo.prefix.tolist()
    for code in np.flatnonzero(np.bincount(fmt, minlength=len(_POSTAL_FORMATS))):
        kind = _POSTAL_FORMATS[code]
        idx = np.flatnonzero(fmt == code)
        m = len(idx)
        pre = _pick(prefixes, cells[idx])
        first = pl.select(
            pl.when(pre == "").then(_digits(rng, m, 1).replace("0", "1")).otherwise(pre)
        ).to_series()
        if kind == "us":
            value = _concat(pre, _digits(rng, m, 2))
        elif kind in ("num4", "num5", "num6"):
            value = _concat(first, _digits(rng, m, int(kind[-1]) - 1))
        elif kind == "jp":
            rest = _digits(rng, m, 6)
            value = _concat(first, rest.str.slice(0, 2), "-", rest.str.slice(2))
        elif kind == "br":
            rest = _digits(rng, m, 7)
            value = _concat(first, rest.str.slice(0, 4), "-", rest.str.slice(4))
        elif kind == "se":
            rest = _digits(rng, m, 4)
            value = _concat(first, rest.str.slice(0, 2), " ", rest.str.slice(2))
        elif kind == "nl":
            value = _concat(
                first,
                _digits(rng, m, 3),
                " ",
                _letters(rng, m, _GB_LETTERS),
                _letters(rng, m, _GB_LETTERS),
            )
        elif kind == "ca":
            value = _concat(
                pre,
                _digits(rng, m, 1),
                _letters(rng, m, _CA_LETTERS),
                " ",
                _digits(rng, m, 1),
                _letters(rng, m, _CA_LETTERS),
                _digits(rng, m, 1),
            )
        elif kind == "gb":
            district = pl.Series(rng.integers(1, 21, m)).cast(pl.String)
            value = _concat(
                pre,
                district,
                " ",
                _digits(rng, m, 1),
                _letters(rng, m, _GB_LETTERS),
                _letters(rng, m, _GB_LETTERS),
            )
        elif kind == "ie":
            value = _concat(
                _pick(_IE_KEYS, rng.integers(0, len(_IE_KEYS), m)),
                " ",
                _letters(rng, m, _CA_LETTERS),
                _digits(rng, m, 3),
            )
        else:  # no postal codes in use
            continue
        out = out.scatter(idx, value)
    return out


def _spelled_country(rng: np.random.Generator, country_idx: np.ndarray) -> pl.Series:
    """Mostly ISO alpha-2, some names ("Germany"), a few alpha-3 ("USA"), as CRMs hold them."""
    spellings = list(COUNTRY_CODES)
    spellings += [v[1] for v in _COUNTRIES.values()] + [v[0] for v in _COUNTRIES.values()]
    style = rng.choice(3, size=len(country_idx), p=[0.85, 0.10, 0.05])
    return _pick(spellings, style * len(COUNTRY_CODES) + country_idx)


def _spelled_state(rng: np.random.Generator, state_idx: np.ndarray) -> pl.Series:
    """Mostly codes ("CA"), some names ("California"); null where the country has none."""
    codes = _state_codes()
    names = [_STATE_NAMES.get(code, code) for code in codes]
    use_name = rng.random(len(state_idx)) < 0.10
    spelled = _pick(codes + tuple(names), state_idx + use_name * len(codes))
    return pl.select(pl.when(pl.lit(state_idx > 0)).then(spelled)).to_series()


@dataclass
class _Names:
    base: pl.Series  # "Bluestone Pacific Analytics"
    slug: pl.Series  # "bluestonepacificanalytics"


def _company_names(rng: np.random.Generator, n: int) -> _Names:
    """n distinct company names, without legal form; the stem space grows with n."""
    h, t, d = len(_NAME_HEADS), len(_NAME_TAILS), len(_NAME_DESCRIPTORS)
    space0 = h * t * d
    levels = min(len(_NAME_QUALIFIERS) + 1, max(1, math.ceil(n * 1.5 / space0)))
    space = space0 * levels
    if n > space:  # past ~8M names: numbered lines of the same stems
        shuffled = rng.permutation(n)
        code, generation = shuffled % space, shuffled // space
    else:
        code = rng.choice(space, size=n, replace=False)
        generation = np.zeros(n, dtype=np.int64)
    head, rest = code % h, code // h
    tail, rest = rest % t, rest // t
    desc, qual = rest % d, rest // d
    heads = _pick(_NAME_HEADS, head)
    tails = _pick(_NAME_TAILS, tail)
    descs = _pick(_NAME_DESCRIPTORS, desc)
    quals = _pick(("", *_NAME_QUALIFIERS), qual)
    gen = pl.Series(generation).cast(pl.String)
    frame = pl.DataFrame({"h": heads, "t": tails, "d": descs, "q": quals, "g": gen}).select(
        base=pl.concat_str(
            pl.col("h"),
            pl.col("t"),
            pl.lit(" "),
            pl.when(pl.col("q") != "").then(pl.col("q") + " ").otherwise(pl.lit("")),
            pl.col("d"),
            pl.when(pl.col("g") != "0").then(" " + pl.col("g")).otherwise(pl.lit("")),
        )
    )
    base = frame.to_series()
    slug = base.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
    return _Names(base=base, slug=slug)


# ---------------------------------------------------------------------------------------
# Staff: reps, teams, territory members, managers
# ---------------------------------------------------------------------------------------


@dataclass
class _Staff:
    n: int  # all reps
    carrying: int  # reps who carry accounts (the rest are managers)
    team: np.ndarray  # team index per rep; -1 for managers
    ids: np.ndarray  # rep_id
    story: dict[str, int]  # story rep id -> rep index
    member_territory: np.ndarray
    member_rep: np.ndarray
    member_weight: np.ndarray
    member_primary: np.ndarray
    manager: np.ndarray  # manager rep index per rep; -1 for managers
    manager_team: list[str]
    manager_segment: list[str | None]
    skill_of_rep: dict[int, set[str]]  # overlay specialisms by rep
    anchor_territory: dict[str, int]  # story rep -> the territory their story happens in


def _staff(plan: _Plan, n_reps: int, geo: _Geo, rng: np.random.Generator) -> _Staff:
    """Staff the teams, seat the story reps where their stories need them, fill territories."""
    teams, terrs = plan.teams, plan.territories
    n_managers = max(4, n_reps // 9)
    carrying = n_reps - n_managers
    by_name = {t.name: i for i, t in enumerate(teams)}
    minimum = np.ones(len(teams), dtype=np.int64)
    minimum[by_name["NA-Central SMB"]] = 3  # REP-OVER, REP-LIGHT and someone else
    minimum[by_name["NA-West Mid-Market"]] = 2  # REP-LEAVE and someone available
    minimum[by_name["NA-East Mid-Market"]] = 2  # REP-LEAVER and someone to inherit
    if carrying < int(minimum.sum()):
        raise ValueError(
            f"{n_reps} reps cannot staff {len(teams)} teams; pass more reps or fewer territories"
        )
    sizes = _apportion(np.array([t.weight for t in teams]), carrying, minimum)
    offset = 0
    for team, size in zip(teams, sizes, strict=True):
        team.size, team.offset = int(size), offset
        offset += int(size)

    # Members of each geographic territory, as positions in its team.
    members: dict[int, list[int]] = {}
    anchors: dict[int, int] = {}  # territory -> first position in it
    for team in teams:
        n, k = team.size, len(team.territories)
        weights = np.array([terrs[i].weight for i in team.territories])
        if n >= 3 * k:
            cap = np.full(k, 8) if n <= 8 * k else None  # 3-8 members where the team allows
            chunk = _apportion(weights, n, np.full(k, 3), cap)
            starts = np.concatenate([[0], np.cumsum(chunk)[:-1]])
            for i, s, c in zip(team.territories, starts, chunk, strict=True):
                members[i] = list(range(int(s), int(s + c)))
                anchors[i] = int(s)
        else:
            width = min(3, n)
            for j, i in enumerate(team.territories):
                s = (j * n) // k
                members[i] = [(s + x) % n for x in range(width)]
                anchors[i] = s

    def territory_of(team_name: str, cell: int | None = None) -> int:
        team = teams[by_name[team_name]]
        if cell is None:
            return team.territories[0]
        return int(plan.lookup[cell, team.segments[0]])

    def cell_of(country: str, prefix: str) -> int:
        return int(np.flatnonzero((geo.country == country) & (geo.prefix == prefix))[0])

    story_seats = {
        REP_DANA: (
            "NA-East Enterprise",
            territory_of("NA-East Enterprise", cell_of("US", "100")),
            0,
        ),
        REP_NAMED: (
            "NA-Central Enterprise",
            territory_of("NA-Central Enterprise", cell_of("US", "606")),
            0,
        ),
        REP_LEAVE: ("NA-West Mid-Market", territory_of("NA-West Mid-Market"), 0),
        REP_OVER: ("NA-Central SMB", territory_of("NA-Central SMB"), 0),
        REP_LIGHT: ("NA-Central SMB", territory_of("NA-Central SMB"), 1),
        REP_LEAVER: ("NA-East Mid-Market", territory_of("NA-East Mid-Market"), 0),
    }
    story: dict[str, int] = {}
    anchor_territory: dict[str, int] = {}
    for rep_id, (team_name, territory, nth) in story_seats.items():
        team = teams[by_name[team_name]]
        position = members[territory][nth] if nth < len(members[territory]) else anchors[territory]
        story[rep_id] = team.offset + position
        anchor_territory[rep_id] = territory

    team_of = np.repeat(np.arange(len(teams)), sizes)
    story_idx = set(story.values())
    rows: list[tuple[int, int, bool]] = []  # (territory, rep, is own team)
    for i, terr in enumerate(terrs):
        if terr.team < 0:
            continue
        team = teams[terr.team]
        chosen = [team.offset + p for p in members[i]]
        rows += [(i, r, True) for r in chosen]
        if len(chosen) < 3:  # a small team borrows from its nearest neighbours
            seg = np.mean(team.segments)
            order = sorted(
                (t for t in range(len(teams)) if t != terr.team and teams[t].size),
                key=lambda t: (
                    teams[t].region != team.region,
                    _REGION_THEATRE[teams[t].region] != _REGION_THEATRE[team.region],
                    abs(np.mean(teams[t].segments) - seg),
                    t,
                ),
            )
            pool = [teams[t].offset + p for t in order for p in range(teams[t].size)]
            pool = [r for r in pool if r not in story_idx and r not in chosen]
            rotate = i % max(1, len(pool))
            pool = pool[rotate:] + pool[:rotate]
            rows += [(i, r, False) for r in pool[: 3 - len(chosen)]]
    skill_of_rep: dict[int, set[str]] = {}
    for i, terr in enumerate(terrs):
        if terr.team >= 0:
            continue
        source_teams = [
            t
            for t, team in enumerate(teams)
            if any(team.region == r and s in team.segments for r, s in terr.sources)
        ]
        pool = [teams[t].offset + p for t in source_teams for p in range(teams[t].size)]
        pool = [r for r in pool if r not in story_idx]
        if len(pool) < 3:  # widen to the whole theatre, then everyone
            theatres = {_REGION_THEATRE[r] for r, _ in terr.sources}
            wider = [t for t, team in enumerate(teams) if _REGION_THEATRE[team.region] in theatres]
            pool += [
                teams[t].offset + p
                for t in wider
                for p in range(teams[t].size)
                if teams[t].offset + p not in story_idx and teams[t].offset + p not in pool
            ]
        if len(pool) < 3:
            pool += [r for r in range(carrying) if r not in story_idx and r not in pool]
        count = min(len(pool), max(3, min(6, round(len(pool) * 0.25))))
        chosen = sorted(rng.choice(np.array(pool), size=count, replace=False).tolist())
        rows += [(i, r, False) for r in chosen]
        for r in chosen:
            skill_of_rep.setdefault(r, set()).add(terr.skill or "")
    member_territory = np.array([r[0] for r in rows], dtype=np.int64)
    member_rep = np.array([r[1] for r in rows], dtype=np.int64)
    own = np.array([r[2] for r in rows])
    primary = (
        pl.DataFrame({"rep": member_rep, "own": own})
        .select(pl.col("own") & pl.struct("rep", "own").is_first_distinct())
        .to_series()
        .to_numpy()
    )
    weight = _choice(rng, np.array([1.0, 0.5, 1.5]), len(rows), np.array([0.8, 0.1, 0.1]))
    weight[np.isin(member_rep, list(story_idx))] = 1.0

    # Managers: each theatre gets its share, each manager a contiguous group of its reps.
    theatre_of_rep = np.array([_REGION_THEATRE[teams[t].region] for t in team_of])
    theatre_sizes = np.bincount(theatre_of_rep, minlength=len(_THEATRES))
    per_theatre = _apportion(
        theatre_sizes.astype(float), n_managers, (theatre_sizes > 0).astype(np.int64)
    )
    manager = np.full(n_reps, -1, dtype=np.int64)
    manager_team: list[str] = []
    manager_segment: list[str | None] = []
    next_manager = carrying
    for theatre, count in enumerate(per_theatre):
        reps_here = np.flatnonzero(theatre_of_rep == theatre)
        for group in np.array_split(reps_here, int(count)):
            manager[group] = next_manager
            group_teams = set(team_of[group].tolist())
            if len(group_teams) == 1:
                only = teams[group_teams.pop()]
                manager_team.append(only.name)
                manager_segment.append(only.label)
            else:
                manager_team.append(_THEATRES[theatre])
                manager_segment.append(None)
            next_manager += 1
    story[REP_MANAGER_EAST] = int(manager[story[REP_LEAVER]])

    is_story = np.zeros(n_reps, dtype=bool)
    is_story[list(story.values())] = True
    width = max(4, len(str(n_reps)))
    number = np.cumsum(~is_story).astype(str)
    ids = np.char.add("REP-", np.char.zfill(number, width)).astype(object)
    for rep_id, index in story.items():
        ids[index] = rep_id
    return _Staff(
        n=n_reps,
        carrying=carrying,
        team=np.concatenate([team_of, np.full(n_managers, -1)]),
        ids=ids.astype(str),
        story=story,
        member_territory=member_territory,
        member_rep=member_rep,
        member_weight=weight,
        member_primary=primary,
        manager=manager,
        manager_team=manager_team,
        manager_segment=manager_segment,
        skill_of_rep=skill_of_rep,
        anchor_territory=anchor_territory,
    )


# ---------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------


@dataclass
class _BadAccounts:
    empty_id: int
    not_numeric: int
    duplicate: int  # this row becomes a copy of `duplicate_of` under another name
    duplicate_of: int
    bad_date: int
    bad_tier: int


class _Builder:
    """Draws the org entity by entity; each step reads only what earlier steps made."""

    def __init__(
        self,
        *,
        accounts: int,
        leads: int,
        reps: int,
        territories: int,
        seed: int,
        as_of: datetime,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.as_of = as_of
        self.now = np.datetime64(as_of.replace(microsecond=0), "s")
        self.n_accounts, self.n_leads = accounts, leads
        self.geo = _geo()
        self.plan = _plan(territories, self.geo)
        self.staff = _staff(self.plan, reps, self.geo, self.rng)
        terrs = self.plan.territories
        self.t_priority = np.array([t.priority for t in terrs])
        self.t_specificity = np.array([t.specificity for t in terrs])
        self.t_rank = np.argsort(np.argsort([t.territory_id for t in terrs]))

    # -- territory resolution -----------------------------------------------------------

    def winners(
        self, cell: np.ndarray, seg: np.ndarray, industry: np.ndarray, employees: np.ndarray
    ) -> np.ndarray:
        """The territory the hierarchy would pick for each record (-1: none matches).

        Same order as the marts: lowest priority number, most specific, territory_id.
        """
        geo = self.geo
        best = self.plan.lookup[cell, seg]
        key = np.where(
            best >= 0,
            self.t_priority[best] * 10**6
            + (99 - self.t_specificity[best]) * 10**4
            + self.t_rank[best],
            np.iinfo(np.int64).max,
        )
        for i, terr in enumerate(self.plan.territories):
            if terr.team >= 0:
                continue
            # Country and state are properties of the cell, industry of a small code list:
            # evaluate them on those tables, then index per record.
            cell_ok = np.ones(len(geo.p), dtype=bool)
            if terr.countries:
                cell_ok &= np.isin(geo.country, terr.countries)
            if terr.states:
                cell_ok &= np.isin(geo.state, terr.states)
            industry_ok = np.array(
                [not terr.industries or n in terr.industries for n in INDUSTRIES]
            )
            mask = cell_ok[cell] & industry_ok[industry]
            if terr.min_employees is not None:
                mask &= employees >= terr.min_employees
            if terr.max_employees is not None:
                mask &= employees <= terr.max_employees
            mine = (
                self.t_priority[i] * 10**6 + (99 - self.t_specificity[i]) * 10**4 + self.t_rank[i]
            )
            better = mask & (mine < key)
            best = np.where(better, i, best)
            key = np.where(better, mine, key)
        return best

    def owners_for(self, territory: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """A member of each record's territory, drawn by member weight x rep factor."""
        st = self.staff
        weight = st.member_weight * (1.0 if factor is None else factor[st.member_rep])
        keep = weight > 0
        fallback = self.plan.teams[[t.region for t in self.plan.teams].index(4)].territories[0]
        territory = np.where(territory >= 0, territory, fallback)
        return _sample_members(
            self.rng, territory, st.member_territory[keep], st.member_rep[keep], weight[keep]
        )

    def cells_of(self, territory: int, n: int) -> np.ndarray:
        cells = self.plan.territories[territory].cells
        assert cells is not None
        return _choice(self.rng, cells, n, self.geo.p[cells])

    # -- accounts --------------------------------------------------------------------------

    def accounts(self) -> None:
        rng, geo, st = self.rng, self.geo, self.staff
        g = self.n_accounts - 3  # three story accounts
        n_new = max(2 * STORY_NEW_ACCOUNTS + 2, min(self.n_accounts // 40, 5000))
        n_old = g - n_new
        leaver_book = min(max(40, self.n_accounts // 500), n_old // 3)
        # Rows whose story fixes where they are.
        old_perm = rng.permutation(n_old)
        self.leaver_rows = np.sort(old_perm[:leaver_book])
        new_perm = rng.permutation(n_new) + n_old
        self.leave_new = np.sort(new_perm[:STORY_NEW_ACCOUNTS])
        self.over_new = np.sort(new_perm[STORY_NEW_ACCOUNTS : 2 * STORY_NEW_ACCOUNTS])
        n_outside = max(1, n_new // 25)
        outside_new = new_perm[2 * STORY_NEW_ACCOUNTS : 2 * STORY_NEW_ACCOUNTS + n_outside]
        designated = np.zeros(g, dtype=bool)
        designated[np.concatenate([self.leaver_rows, new_perm[: 2 * STORY_NEW_ACCOUNTS]])] = True

        cell = rng.choice(len(geo.p), size=g, p=geo.p)
        seg = rng.choice(3, size=g, p=_SEGMENT_P)
        industry = rng.choice(len(INDUSTRIES), size=g, p=_INDUSTRY_P)
        stories = (
            (self.leaver_rows, st.anchor_territory[REP_LEAVER], MM),
            (self.leave_new, st.anchor_territory[REP_LEAVE], MM),
            (self.over_new, st.anchor_territory[REP_OVER], SMB),
        )
        for rows, story_territory, segment in stories:
            cell[rows] = self.cells_of(story_territory, len(rows))
            seg[rows] = segment
            industry[rows] = rng.choice(_PLAIN_INDUSTRIES, size=len(rows))
        outside_cells = np.flatnonzero(geo.region == OUTSIDE)
        cell[outside_new] = _choice(rng, outside_cells, len(outside_new), geo.p[outside_cells])

        u = rng.random(g)
        employees = np.select(
            [seg == SMB, seg == MM],
            [
                np.exp(np.log(2) + u * (np.log(200) - np.log(2))),
                np.exp(np.log(200) + u * (np.log(1000) - np.log(200))),
            ],
            1000 * (1 + rng.pareto(1.3, g)),
        )
        employees = np.clip(np.floor(employees), 1, 250_000).astype(np.int64)
        per_head = rng.lognormal(np.log(180_000), 0.45, g) * _INDUSTRY_REVENUE[industry]
        revenue = np.round(employees * per_head, -3)
        revenue[rng.random(g) < 0.04] = np.nan
        cum = np.cumsum(_TIER_P, axis=1)[seg]
        draw = rng.random(g)
        tier = 1 + (draw > cum[:, 0]).astype(np.int64) + (draw > cum[:, 1])
        age = np.concatenate(
            [
                np.sort(rng.uniform(2 * _DAY, 3 * _YEAR, n_old))[::-1],
                np.sort(rng.uniform(60, _HOUR - 60, n_new))[::-1],
            ]
        )

        territory = self.winners(cell, seg, industry, employees)
        factor = np.ones(st.n)
        factor[st.story[REP_OVER]] = 2.5
        factor[st.story[REP_LIGHT]] = 0.3
        factor[st.story[REP_LEAVER]] = 0.0  # the leaver's book is seated explicitly below
        owner = self.owners_for(territory, factor)
        owner[n_old:] = -1
        free = np.flatnonzero(~designated[:n_old])
        unowned = rng.choice(free, round(0.02 * n_old), replace=False)
        owner[unowned] = -1
        owner[self.leaver_rows] = st.story[REP_LEAVER]
        # The leaver's book: ~20% open pipeline (tier 1/2), ~30% tier 3, the rest tier 1/2.
        book = rng.permutation(self.leaver_rows)
        n_pipe, n_tier3 = round(0.2 * len(book)), round(0.3 * len(book))
        self.leaver_pipeline = np.sort(book[:n_pipe])
        tier[book] = rng.choice([1, 2], size=len(book), p=[0.35, 0.65])
        tier[book[n_pipe : n_pipe + n_tier3]] = 3

        self.g, self.n_old, self.n_new = g, n_old, n_new
        self.cell, self.seg, self.industry = cell, seg, industry
        self.employees, self.revenue, self.tier = employees, revenue, tier
        self.age, self.territory, self.owner = age, territory, owner
        self.designated = designated
        width = max(7, len(str(g)))
        self.account_ids = _concat(
            "ACC-", pl.Series(np.arange(1, g + 1)).cast(pl.String).str.zfill(width)
        )
        self.names = _company_names(rng, g + self.n_leads)

    def named_and_parents(self) -> None:
        """Named list, then subsidiaries: a few per cent of accounts, some two levels deep."""
        rng = self.rng
        st = self.staff
        invalid = np.zeros(st.n, dtype=bool)
        invalid[self.inactive_reps] = True
        old = np.arange(self.n_old)
        owned_ok = (self.owner[old] >= 0) & ~invalid[np.maximum(self.owner[old], 0)]
        eligible = old[owned_ok & ~self.designated[old]]
        n_named = min(max(1, round(0.01 * self.n_accounts) - 1), len(eligible) // 4)
        t1 = eligible[self.tier[eligible] == 1]
        t2 = eligible[self.tier[eligible] == 2]
        n1 = min(len(t1), round(n_named * 0.85))
        self.named = np.sort(
            np.concatenate(
                [
                    rng.choice(t1, n1, replace=False),
                    rng.choice(t2, min(len(t2), n_named - n1), replace=False),
                ]
            )
        )
        parent = np.full(self.g, -1, dtype=np.int64)
        free = ~self.designated.copy()
        free[self.n_old :] = False
        free[self.named] = False
        pool = np.flatnonzero(free)
        n_sub = round(0.025 * self.n_old)
        subs = rng.choice(pool, n_sub, replace=False)
        is_root = free & (self.seg == ENT)
        is_root[subs] = False
        is_root[self.named] = True
        roots = np.flatnonzero(is_root)
        n_level2 = max(1, n_sub // 12)
        level1, level2 = subs[n_level2:], subs[:n_level2]
        parent[level1] = rng.choice(roots, len(level1))
        parent[level2] = rng.choice(level1, len(level2))
        # New subsidiaries of named accounts exercise the named_parent rule beyond Globex.
        is_new_free = np.zeros(self.g, dtype=bool)
        is_new_free[self.n_old :] = True
        is_new_free[np.concatenate([self.leave_new, self.over_new])] = False
        new_free = np.flatnonzero(is_new_free)
        new_subs = rng.choice(new_free, max(1, len(new_free) // 16), replace=False)
        parent[new_subs] = rng.choice(self.named, len(new_subs))
        root = parent.copy()
        deep = (root >= 0) & (parent[np.maximum(root, 0)] >= 0)
        root[deep] = parent[root[deep]]
        self.parent, self.root = parent, root

    # -- reps --------------------------------------------------------------------------

    def story_members(self) -> np.ndarray:
        """Reps who work a story territory: kept free of side plots so the stories stay clear."""
        st = self.staff
        anchors = list(st.anchor_territory.values())
        return np.unique(st.member_rep[np.isin(st.member_territory, anchors)])

    def rep_statuses(self) -> None:
        """Deactivated, role-changed and on-leave reps: a small share, never story reps.

        Departures come from the lightest books so that, as in a real snapshot, only a few
        per cent of owned accounts need a new owner (the guards stop a run at 30%).
        """
        rng, st = self.rng, self.staff
        story = list(st.story.values())
        self.role = np.where(rng.random(st.n) < 0.12, "SDR", "AE").astype(object)
        self.role[story] = "AE"
        self.role[st.carrying :] = "Sales Manager"
        carrying = np.arange(st.carrying)
        generic_ae = carrying[~np.isin(carrying, story) & (self.role[: st.carrying] == "AE")]
        book = np.bincount(self.owner[self.owner >= 0], minlength=st.n)
        jittered = book[generic_ae] * rng.uniform(0.8, 1.25, len(generic_ae))
        in_story = np.isin(generic_ae, self.story_members())
        candidates = generic_ae[np.lexsort((jittered, in_story))]
        n_deactivated = 1 if st.carrying < 200 else 2
        n_leave = max(0, round(0.02 * st.carrying) - 1)
        self.deactivated = candidates[:n_deactivated]
        self.role_changed = candidates[n_deactivated : n_deactivated + 1]
        self.on_leave = np.concatenate(
            [[st.story[REP_LEAVE]], candidates[n_deactivated + 1 : n_deactivated + 1 + n_leave]]
        ).astype(np.int64)
        self.inactive_reps = np.concatenate(
            [self.deactivated, self.role_changed, [st.story[REP_LEAVER]]]
        ).astype(np.int64)

    # -- opportunities ---------------------------------------------------------------------

    def opportunities(self) -> pl.DataFrame:
        """~15% of accounts with opportunities, ~40% of those open; the leaver's pipeline."""
        rng, st = self.rng, self.staff
        in_pool = np.ones(self.n_old, dtype=bool)
        in_pool[self.leaver_rows] = False
        pool = np.flatnonzero(in_pool)
        with_opps = np.sort(rng.choice(pool, round(0.15 * len(pool)), replace=False))
        is_open = rng.random(len(with_opps)) < 0.40
        closed = rng.poisson(0.7, len(with_opps)) + (~is_open)
        # the leaver: open pipeline on ~20% of the book, some closed history on the rest
        leaver_closed = rng.choice(self.leaver_rows, len(self.leaver_rows) // 3, replace=False)
        acc = np.concatenate(
            [
                with_opps[is_open],
                np.repeat(with_opps, closed),
                self.leaver_pipeline,
                leaver_closed,
            ]
        )
        opened = np.concatenate(
            [
                np.ones(is_open.sum(), bool),
                np.zeros(closed.sum(), bool),
                np.ones(len(self.leaver_pipeline), bool),
                np.zeros(len(leaver_closed), bool),
            ]
        )
        leaver = np.zeros(len(acc), bool)
        leaver[-(len(self.leaver_pipeline) + len(leaver_closed)) :] = True
        order = np.lexsort((~opened, acc))
        acc, opened, leaver = acc[order], opened[order], leaver[order]
        n = len(acc)
        account_owner = self.owner[acc]
        other = self.owners_for(self.territory[acc])
        mismatch = opened & (rng.random(n) < 0.04)
        historical = ~opened & (rng.random(n) < 0.20)
        owner = np.where((account_owner < 0) | mismatch | historical, other, account_owner)
        owner[leaver] = st.story[REP_LEAVER]
        seg = self.seg[acc]
        median = np.array([160_000.0, 45_000.0, 12_000.0])[seg]
        amount = np.round(rng.lognormal(np.log(median), 0.6), -2)
        stage = np.where(
            opened,
            rng.choice(len(_OPEN_STAGES), size=n, p=_OPEN_STAGE_P),
            len(_OPEN_STAGES) + (rng.random(n) >= 0.45),
        )
        account_age = self.age[acc]
        created = np.where(
            opened, rng.uniform(3 * _DAY, 200 * _DAY, n), rng.uniform(60 * _DAY, 1000 * _DAY, n)
        )
        created = np.minimum(created, account_age - _HOUR)
        closed_age = np.maximum(created - rng.uniform(10 * _DAY, 150 * _DAY, n), created * 0.1)
        self.has_open = np.zeros(self.g, dtype=bool)
        self.has_open[acc[opened]] = True
        self.has_opp = np.zeros(self.g, dtype=bool)
        self.has_opp[acc] = True
        width = max(7, len(str(n)))
        generic = pl.DataFrame(
            {
                "opportunity_id": _concat(
                    "OPP-", pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
                ),
                "account_id": self.account_ids.gather(acc),
                "owner_id": _pick(st.ids, owner),
                "stage": _pick(_OPEN_STAGES + _CLOSED_STAGES, stage),
                "is_closed": ~opened,
                "amount": amount,
                "created_at": _ago(self.now, created),
                "closed_at": np.where(
                    opened, np.datetime64("NaT", "us"), _ago(self.now, closed_age)
                ),
            }
        )
        story = pl.DataFrame(
            {
                "opportunity_id": [ACME_OPPORTUNITY],
                "account_id": [ACME_ACCOUNT],
                "owner_id": [REP_DANA],
                "stage": ["Proposal"],
                "is_closed": [False],
                "amount": [180_000.0],
                "created_at": _ago(self.now, np.array([45 * _DAY])),
                "closed_at": pl.Series([None], dtype=pl.Datetime("us")),
            }
        )
        return pl.concat([_conform(story, "opportunities"), _conform(generic, "opportunities")])

    # -- bad rows ----------------------------------------------------------------------------

    def pick_bad_accounts(self) -> None:
        """Plain rows only: not story, no pipeline, not in a hierarchy or on the named list."""
        plain = np.ones(self.g, dtype=bool)
        plain[self.n_old :] = False
        plain[self.designated] = False
        plain[self.has_opp] = False
        plain[self.named] = False
        plain[self.parent >= 0] = False
        plain[self.parent[self.parent >= 0]] = False
        plain[self.owner < 0] = False
        plain[self.geo.region[self.cell] == OUTSIDE] = False
        rows = self.rng.choice(np.flatnonzero(plain), 6, replace=False)
        self.bad = _BadAccounts(*(int(r) for r in rows))
        self.bad_rows = rows

    # -- frames -----------------------------------------------------------------------------

    def accounts_frame(self) -> pl.DataFrame:
        rng, geo = self.rng, self.geo
        g = self.g
        names = self.names
        base = names.base.head(g)
        slug = names.slug.head(g)
        country = geo.country_idx[self.cell]
        forms = [v[3][i % len(v[3])] for v in _COUNTRIES.values() for i in range(3)]
        legal = _pick(forms, country * 3 + rng.integers(0, 3, g))
        tld_country = _pick([v[2] for v in _COUNTRIES.values()], country)
        tld = pl.select(
            pl.when(pl.lit(rng.random(g) < 0.5)).then(tld_country).otherwise(pl.lit("com"))
        ).to_series()
        # Subsidiaries carry their root's name and a country tag: "Bluestone Analytics UK Ltd".
        has_root = self.root >= 0
        root = np.maximum(self.root, 0)
        tag = _pick([v[4] for v in _COUNTRIES.values()], country)
        derived = (
            pl.DataFrame({"root": np.where(has_root, root, -1 - np.arange(g)), "country": country})
            .select(pl.struct("root", "country").is_first_distinct())
            .to_series()
            .to_numpy()
            & has_root
        )
        root_base, root_slug = base.gather(root), slug.gather(root)
        frame = (
            pl.DataFrame(
                {
                    "derived": derived,
                    "base": base,
                    "slug": slug,
                    "root_base": root_base,
                    "root_slug": root_slug,
                    "tag": tag,
                    "legal": legal,
                    "tld": tld,
                    "domain_style": _choice(
                        rng, np.arange(6), g, np.array([0.68, 0.10, 0.05, 0.04, 0.05, 0.08])
                    ),
                }
            )
            .with_columns(
                base=pl.when("derived")
                .then(pl.col("root_base") + " " + pl.col("tag"))
                .otherwise("base"),
                host=pl.when("derived")
                .then(
                    pl.col("root_slug")
                    + "-"
                    + pl.col("tag").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
                    + "."
                    + pl.col("tld")
                )
                .otherwise(pl.col("slug") + "." + pl.col("tld")),
            )
            .with_columns(
                name=pl.col("base") + " " + pl.col("legal"),
                domain=pl.when(pl.col("domain_style") == 1)
                .then("https://www." + pl.col("host"))
                .when(pl.col("domain_style") == 2)
                .then("https://www." + pl.col("host") + "/about")
                .when(pl.col("domain_style") == 3)
                .then("http://" + pl.col("host"))
                .when(pl.col("domain_style") == 4)
                .then("www." + pl.col("host"))
                .when(pl.col("domain_style") == 5)
                .then(None)
                .otherwise("host"),
            )
        )
        self.account_base = frame["base"]
        self.account_name = frame["name"]
        self.account_host = frame["host"]
        self.has_domain = (frame["domain_style"] != 5).to_numpy()
        st = self.staff
        generic = pl.DataFrame(
            {
                "account_id": self.account_ids,
                "name": frame["name"],
                "created_at": _ago(self.now, self.age),
                "domain": frame["domain"],
                "parent_account_id": pl.select(
                    pl.when(pl.lit(self.parent >= 0)).then(
                        self.account_ids.gather(np.maximum(self.parent, 0))
                    )
                ).to_series(),
                "country": _spelled_country(rng, country),
                "state": _spelled_state(rng, geo.state_idx[self.cell]),
                "postal_code": _postal_codes(rng, self.cell, geo),
                "industry": _pick(INDUSTRIES, self.industry),
                "employees": self.employees,
                "annual_revenue": pl.Series(self.revenue, nan_to_null=True),
                "tier": self.tier,
                "owner_id": pl.select(
                    pl.when(pl.lit(self.owner >= 0)).then(_pick(st.ids, np.maximum(self.owner, 0)))
                ).to_series(),
            }
        )
        as_of = self.now
        story = pl.DataFrame(
            {
                "account_id": [ACME_ACCOUNT, GLOBEX_ACCOUNT, GLOBEX_SUBSIDIARY],
                "name": ["Acme Corp", "Globex Corporation", "Globex Europe GmbH"],
                "created_at": _ago(as_of, np.array([2 * _YEAR, 1000 * _DAY, 20 * 60])),
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
        return pl.concat([_conform(story, "accounts"), _conform(generic, "accounts")])

    def story_accounts_territories(self) -> tuple[int, int, int]:
        """Territories that win for Acme's account, Acme's lead and Globex Europe."""
        geo = self.geo
        cells = np.array(
            [
                int(np.flatnonzero((geo.country == "US") & (geo.prefix == "100"))[0]),
                int(np.flatnonzero((geo.country == "US") & (geo.prefix == "941"))[0]),
                int(np.flatnonzero((geo.country == "DE") & (geo.prefix == "6"))[0]),
            ]
        )
        picks = self.winners(
            cells,
            np.array([ENT, ENT, ENT]),
            np.array([INDUSTRIES.index(i) for i in ("Manufacturing", "Manufacturing", "Energy")]),
            np.array([5000, 5000, 1500]),
        )
        return int(picks[0]), int(picks[1]), int(picks[2])

    def named_frame(self) -> pl.DataFrame:
        st = self.staff
        generic = pl.DataFrame(
            {
                "account_id": self.account_ids.gather(self.named),
                "owner_id": _pick(st.ids, self.owner[self.named]),
                "tier": self.tier[self.named],
                "program": "Strategic",
            }
        )
        story = pl.DataFrame(
            {
                "account_id": [GLOBEX_ACCOUNT],
                "owner_id": [REP_NAMED],
                "tier": [1],
                "program": ["Strategic"],
            }
        )
        return pl.concat([_conform(story, "named_accounts"), _conform(generic, "named_accounts")])

    def leads_frame(self) -> pl.DataFrame:
        rng, geo, st = self.rng, self.geo, self.staff
        n = self.n_leads - 1
        kind = rng.choice(4, size=n, p=[0.45, 0.25, 0.22, 0.08])
        is_usable = np.ones(self.n_old, dtype=bool)
        is_usable[self.bad_rows] = False
        usable = np.flatnonzero(is_usable)
        with_domain = usable[self.has_domain[usable]]
        account = np.where(kind == 0, rng.choice(with_domain, n), rng.choice(usable, n))
        matched = kind != 2
        first = rng.integers(0, len(_FIRST_NAMES), n)
        last = rng.integers(0, len(_LAST_NAMES), n)
        first_s = _pick(_FIRST_NAMES, first).str.to_lowercase()
        last_s = _pick(_LAST_NAMES, last).str.to_lowercase().str.replace_all(r"[^a-z]", "")
        local_style = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
        personal = _pick(_PERSONAL_DOMAINS, rng.integers(0, len(_PERSONAL_DOMAINS), n))
        unknown_names = self.names.base.slice(self.g, n)
        unknown_slug = self.names.slug.slice(self.g, n)
        unknown_cell = rng.choice(len(geo.p), size=n, p=geo.p)
        outside = np.flatnonzero(geo.region == OUTSIDE)
        to_outside = rng.random(n) < 0.02
        unknown_cell[to_outside] = rng.choice(outside, int(to_outside.sum()))
        moved = rng.random(n) < 0.15  # a lead whose own address differs from its account's
        cell = np.where(matched & ~moved, self.cell[account], unknown_cell)
        copy_firmo = matched & (rng.random(n) < 0.7)
        seg = rng.choice(3, size=n, p=_SEGMENT_P)
        u = rng.random(n)
        own_emp = np.select(
            [seg == SMB, seg == MM],
            [
                np.exp(np.log(2) + u * (np.log(200) - np.log(2))),
                np.exp(np.log(200) + u * (np.log(1000) - np.log(200))),
            ],
            1000 * (1 + rng.pareto(1.3, n)),
        )
        own_emp = np.clip(np.floor(own_emp), 1, 250_000).astype(np.int64)
        employees = np.where(copy_firmo, self.employees[account], own_emp)
        employees_null = (matched & ~copy_firmo) | (~matched & (rng.random(n) < 0.2))
        industry = np.where(
            copy_firmo, self.industry[account], rng.choice(len(INDUSTRIES), size=n, p=_INDUSTRY_P)
        )
        industry_null = matched & ~copy_firmo
        age = _choice(rng, np.arange(3), n, np.array([0.45, 0.40, 0.15]))
        seconds = np.select(
            [age == 0, age == 1],
            [rng.uniform(30, _HOUR, n), rng.uniform(_HOUR, _DAY, n)],
            rng.uniform(_DAY, 30 * _DAY, n),
        )
        acc_owner = self.owner[account]
        available = np.ones(st.carrying, dtype=bool)
        available[self.inactive_reps] = False
        random_rep = rng.choice(np.flatnonzero(available), n)
        owned_old = (age == 2) & (rng.random(n) < 0.6)
        owner = np.where(
            kind == 3, acc_owner, np.where(owned_old, np.where(matched, acc_owner, random_rep), -1)
        )
        frame = (
            pl.DataFrame(
                {
                    "kind": kind,
                    "style": local_style,
                    "first": first_s,
                    "last": last_s,
                    "host": self.account_host.gather(account),
                    "personal": personal,
                    "unknown_slug": unknown_slug,
                    "unknown_name": unknown_names,
                    "account_name": self.account_name.gather(account),
                    "account_base": self.account_base.gather(account),
                    "nn": pl.Series(rng.integers(1, 100, n)).cast(pl.String),
                    "company_roll": rng.random(n),
                    "website_roll": rng.random(n),
                    "unknown_tld": _pick(("com", "io", "co", "net"), rng.integers(0, 4, n)),
                }
            )
            .with_columns(
                unknown_host=pl.col("unknown_slug") + "." + pl.col("unknown_tld"),
                local=pl.when(pl.col("style") == 0)
                .then(pl.col("first") + "." + pl.col("last"))
                .when(pl.col("style") == 1)
                .then(pl.col("first").str.slice(0, 1) + pl.col("last"))
                .otherwise("first"),
            )
            .with_columns(
                email=pl.when(pl.col("kind").is_in([0, 3]))
                .then(pl.col("local") + "@" + pl.col("host"))
                .when(pl.col("kind") == 1)
                .then(
                    pl.col("first") + "." + pl.col("last") + pl.col("nn") + "@" + pl.col("personal")
                )
                .when(pl.col("company_roll") < 0.8)
                .then(pl.col("local") + "@" + pl.col("unknown_host"))
                .otherwise(pl.col("first") + "." + pl.col("last") + "@" + pl.col("personal")),
                company=pl.when(pl.col("kind") == 3)
                .then("account_name")
                .when((pl.col("kind") == 0) & (pl.col("company_roll") < 0.8))
                .then("account_name")
                .when(pl.col("kind") == 1)
                .then(
                    pl.when(pl.col("company_roll") < 0.8)
                    .then("account_name")
                    .otherwise("account_base")
                )
                .when((pl.col("kind") == 2) & (pl.col("company_roll") < 0.9))
                .then(pl.col("unknown_name") + " Inc"),
                domain=pl.when(pl.col("kind").is_in([0, 3]) & (pl.col("website_roll") < 0.35))
                .then("host")
                .when(
                    (pl.col("kind") == 2)
                    & (pl.col("company_roll") < 0.8)
                    & (pl.col("website_roll") < 0.4)
                )
                .then(pl.concat_str(pl.lit("https://"), "unknown_host")),
            )
        )
        width = max(6, len(str(n)))
        generic = pl.DataFrame(
            {
                "lead_id": _concat(
                    "LEAD-", pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
                ),
                "email": frame["email"],
                "created_at": _ago(self.now, seconds),
                "company": frame["company"],
                "domain": frame["domain"],
                "country": _spelled_country(rng, geo.country_idx[cell]),
                "state": _spelled_state(rng, geo.state_idx[cell]),
                "postal_code": _postal_codes(rng, cell, geo),
                "industry": pl.select(
                    pl.when(pl.lit(~industry_null)).then(_pick(INDUSTRIES, industry))
                ).to_series(),
                "employees": pl.select(
                    pl.when(pl.lit(~employees_null)).then(pl.lit(employees))
                ).to_series(),
                "source": _pick(_LEAD_SOURCES, rng.choice(len(_LEAD_SOURCES), n, p=_LEAD_SOURCE_P)),
                "account_id": pl.select(
                    pl.when(pl.lit(kind == 3)).then(self.account_ids.gather(account))
                ).to_series(),
                "owner_id": pl.select(
                    pl.when(pl.lit(owner >= 0)).then(_pick(st.ids, np.maximum(owner, 0)))
                ).to_series(),
            }
        )
        self.bad_lead = int(rng.integers(0, n))
        story = pl.DataFrame(
            {
                "lead_id": [ACME_LEAD],
                "email": ["jane.doe@acme.com"],
                "created_at": _ago(self.now, np.array([30 * 60])),
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
        return pl.concat([_conform(story, "leads"), _conform(generic, "leads")])

    def reps_frame(self) -> pl.DataFrame:
        """CRM users; capacity from the book just drawn, so most reps sit at index 71-100
        (capacity = book x U(1.0, 1.4)), a few far above or below, REP-OVER above 100."""
        rng, st = self.rng, self.staff
        owned = self.owner[self.owner >= 0]
        book = np.bincount(owned, minlength=st.n).astype(float)
        pipe = np.bincount(self.owner[self.has_open & (self.owner >= 0)], minlength=st.n).astype(
            float
        )
        book[st.story[REP_DANA]] += 1
        pipe[st.story[REP_DANA]] += 1
        book[st.story[REP_NAMED]] += 1
        units = book + 0.5 * pipe
        factor = rng.uniform(1.0, 1.4, st.n)
        story = set(st.story.values())
        generic = np.setdiff1d(
            np.arange(st.carrying), [*story, *self.story_members(), *self.inactive_reps]
        )
        skewed = rng.permutation(generic)
        n_skew = max(1, round(0.015 * st.carrying))
        factor[skewed[:n_skew]] = rng.uniform(0.6, 0.8, n_skew)
        factor[skewed[n_skew : 2 * n_skew]] = rng.uniform(2.0, 3.0, n_skew)
        factor[st.story[REP_OVER]] = 0.6
        factor[st.story[REP_LIGHT]] = 3.0
        capacity = np.maximum(np.ceil(units * factor), 5).astype(np.int64)

        first = rng.integers(0, len(_FIRST_NAMES), st.n)
        last = rng.integers(0, len(_LAST_NAMES), st.n)
        names = pl.DataFrame(
            {"f": _pick(_FIRST_NAMES, first), "l": _pick(_LAST_NAMES, last), "id": st.ids}
        ).with_columns(
            name=pl.col("f") + " " + pl.col("l"),
            email=pl.col("f").str.to_lowercase()
            + "."
            + pl.col("l").str.to_lowercase().str.replace_all(r"[^a-z]", "")
            + "."
            + pl.col("id").str.extract(r"(\d+)$").cast(pl.Int64).cast(pl.String)
            + "@"
            + EMAIL_DOMAIN,
        )
        story_people = {
            REP_DANA: "Dana East",
            REP_NAMED: "Nina Named",
            REP_LEAVE: "Lee Leave",
            REP_OVER: "Olivia Over",
            REP_LIGHT: "Liam Light",
            REP_LEAVER: "Pat Leaver",
            REP_MANAGER_EAST: "Morgan Eastman",
        }
        name = names["name"].to_numpy().astype(object)
        email = names["email"].to_numpy().astype(object)
        for rep_id, person in story_people.items():
            name[st.story[rep_id]] = person
            email[st.story[rep_id]] = person.lower().replace(" ", ".") + "@" + EMAIL_DOMAIN
        self.rep_email = email

        teams = self.plan.teams
        team_name = np.array([t.name for t in teams] + [""], dtype=object)
        team_label = np.array([t.label for t in teams] + [None], dtype=object)
        managers = np.arange(st.carrying, st.n)
        team = team_name[st.team]
        segment = team_label[st.team]
        team[managers] = st.manager_team
        segment[managers] = st.manager_segment
        region = np.array([t.region for t in teams] + [-1])[st.team]
        # Skills: languages by region, a specialism or two, overlay specialisms.
        probs = np.zeros((st.n, len(_SKILLS)))
        lang = {
            4: {"German": 0.3, "French": 0.25, "Spanish": 0.15, "Dutch": 0.1},
            5: {"Japanese": 0.3, "Mandarin": 0.15, "Hindi": 0.15},
            3: {"French": 0.45},
            0: {"Spanish": 0.15},
            1: {"Spanish": 0.1},
            2: {"Spanish": 0.15},
        }
        for r, by_skill in lang.items():
            for skill, p in by_skill.items():
                probs[region == r, _SKILLS.index(skill)] = p
        for skill, p in (
            ("Healthcare", 0.12),
            ("Financial Services", 0.12),
            ("Public Sector", 0.08),
            ("Software", 0.2),
            ("Manufacturing", 0.1),
            ("Negotiation", 0.25),
            ("Channel Partners", 0.1),
        ):
            probs[: st.carrying, _SKILLS.index(skill)] = p
        probs[managers] = 0.0
        probs[managers, _SKILLS.index("Coaching")] = 1.0
        probs[managers, _SKILLS.index("Forecasting")] = 1.0
        has = rng.random(probs.shape) < probs
        for rep, specialisms in st.skill_of_rep.items():
            has[rep, [_SKILLS.index(s) for s in specialisms if s in _SKILLS]] = True
        skill_frame = pl.DataFrame(has, schema=list(_SKILLS), orient="row")
        skills = (
            skill_frame.select(
                pl.concat_list([pl.when(pl.col(s)).then(pl.lit(s)) for s in _SKILLS])
                .list.drop_nulls()
                .alias("skills")
            )
            .with_columns(pl.when(pl.col("skills").list.len() > 0).then("skills"))
            .to_series()
        )
        is_active = np.ones(st.n, dtype=bool)
        is_active[self.deactivated] = False
        manager_id = np.where(st.manager >= 0, st.ids[np.maximum(st.manager, 0)], None)
        frame = pl.DataFrame(
            {
                "rep_id": st.ids,
                "name": pl.Series(name, dtype=pl.String),
                "email": pl.Series(email, dtype=pl.String),
                "role": pl.Series(self.role, dtype=pl.String),
                "team": pl.Series(team, dtype=pl.String),
                "segment": pl.Series(segment, dtype=pl.String),
                "manager_id": pl.Series(manager_id, dtype=pl.String),
                "capacity": pl.select(
                    pl.when(pl.lit(np.arange(st.n) < st.carrying)).then(pl.lit(capacity))
                ).to_series(),
                "skills": skills,
                "is_active": is_active,
            }
        )
        return _conform(frame, "reps")

    def hr_frame(self) -> pl.DataFrame:
        rng, st = self.rng, self.staff
        n = st.n
        today = self.now.astype("datetime64[D]")
        status = np.full(n, "active", dtype=object)
        start = today - rng.integers(60, 8 * 365, n).astype("timedelta64[D]")
        end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        updated = rng.uniform(_DAY, 200 * _DAY, n)
        leave = self.on_leave
        status[leave] = "leave"
        start[leave] = today - rng.integers(3, 40, len(leave)).astype("timedelta64[D]")
        end[leave] = today + rng.integers(7, 90, len(leave)).astype("timedelta64[D]")
        updated[leave] = rng.uniform(_HOUR, 3 * _DAY, len(leave))
        lee = st.story[REP_LEAVE]
        start[lee], end[lee] = today - np.timedelta64(10, "D"), today + np.timedelta64(30, "D")
        # Liam Light is back from nine days of leave: available today and with room, the
        # capacity pick gives him the overload territory's new records, far more than his
        # weighted share of the days he was there (the territory fairness story).
        liam = st.story[REP_LIGHT]
        status[liam] = "leave"
        start[liam] = today - np.timedelta64(BACK_FROM_LEAVE_DAYS + 9, "D")
        end[liam] = today - np.timedelta64(BACK_FROM_LEAVE_DAYS, "D")
        pat = st.story[REP_LEAVER]
        status[pat] = "terminated"
        start[pat] = today - np.timedelta64(1, "D")
        updated[pat] = _DAY - 2 * _HOUR
        role = self.role.copy()
        role[self.role_changed] = "Sales Engineer"
        updated[self.role_changed] = 2 * _DAY
        frame = pl.DataFrame(
            {
                "email": pl.Series(self.rep_email, dtype=pl.String),
                "status": pl.Series(status, dtype=pl.String),
                "status_start": start,
                "status_end": end,
                "role": pl.Series(role, dtype=pl.String),
                "updated_at": _ago(self.now, updated),
            }
        )
        return _conform(frame, "hr")

    def territories_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        terrs = self.plan.territories

        def lists(attr: str) -> pl.Series:
            values = [list(getattr(t, attr)) if getattr(t, attr) else None for t in terrs]
            return pl.Series(values, dtype=pl.List(pl.String))

        territories = pl.DataFrame(
            {
                "territory_id": [t.territory_id for t in terrs],
                "name": [t.name for t in terrs],
                "priority": [t.priority for t in terrs],
                "segment": pl.Series([t.segment for t in terrs], dtype=pl.String),
                "countries": lists("countries"),
                "states": lists("states"),
                "postal_prefixes": lists("postal_prefixes"),
                "industries": lists("industries"),
                "min_employees": pl.Series([t.min_employees for t in terrs], dtype=pl.Int64),
                "max_employees": pl.Series([t.max_employees for t in terrs], dtype=pl.Int64),
                "min_revenue": pl.Series([None] * len(terrs), dtype=pl.Float64),
                "max_revenue": pl.Series([None] * len(terrs), dtype=pl.Float64),
                "overflow_queue": [t.overflow_queue for t in terrs],
            }
        )
        st = self.staff
        tid = np.array([t.territory_id for t in terrs])
        members = pl.DataFrame(
            {
                "territory_id": tid[st.member_territory],
                "rep_id": st.ids[st.member_rep],
                "weight": st.member_weight,
                "is_primary": st.member_primary,
            }
        )
        return _conform(territories, "territories"), _conform(members, "territory_members")

    def activities_frame(self) -> pl.DataFrame:
        rng, st = self.rng, self.staff
        is_owned = self.owner[: self.n_old] >= 0
        is_owned[self.bad_rows] = False
        owned = np.flatnonzero(is_owned)
        sample = np.sort(rng.choice(owned, round(0.2 * len(owned)), replace=False))
        counts = 1 + rng.poisson(1.5, len(sample))
        acc = np.repeat(sample, counts)
        n = len(acc)
        rep = np.where(rng.random(n) < 0.9, self.owner[acc], self.owners_for(self.territory[acc]))
        age = np.minimum(rng.uniform(10 * 60, 30 * _DAY, n), self.age[acc])
        order = np.lexsort((-age, acc))
        frame = pl.DataFrame(
            {
                "account_id": self.account_ids.gather(acc[order]),
                "rep_id": _pick(st.ids, rep[order]),
                "occurred_at": _ago(self.now, age[order]),
                "type": _pick(_ACTIVITY_TYPES, rng.choice(len(_ACTIVITY_TYPES), n, p=_ACTIVITY_P)),
            }
        )
        return _conform(frame, "activities")

    # -- everything -------------------------------------------------------------------------

    def build(self) -> dict[str, pl.DataFrame]:
        """Every entity as a typed frame in contract columns, in ENTITIES order."""
        self.accounts()
        self.rep_statuses()
        self.named_and_parents()
        frames = {"opportunities": self.opportunities()}
        self.pick_bad_accounts()
        frames["accounts"] = self.accounts_frame()
        frames["leads"] = self.leads_frame()
        frames["reps"] = self.reps_frame()
        frames["hr"] = self.hr_frame()
        frames["territories"], frames["territory_members"] = self.territories_frames()
        frames["named_accounts"] = self.named_frame()
        frames["activities"] = self.activities_frame()
        return {entity: frames[entity] for entity in ENTITIES}

    def stories(self) -> StoryIds:
        tid = [t.territory_id for t in self.plan.territories]
        acme, acme_lead, globex_eu = self.story_accounts_territories()
        anchor = self.staff.anchor_territory
        ids = self.account_ids
        return StoryIds(
            acme_territory=tid[acme],
            acme_lead_territory=tid[acme_lead],
            named_subsidiary_territory=tid[globex_eu],
            leave_territory=tid[anchor[REP_LEAVE]],
            leave_new_accounts=tuple(ids.gather(self.leave_new).to_list()),
            overload_territory=tid[anchor[REP_OVER]],
            overload_new_accounts=tuple(ids.gather(self.over_new).to_list()),
            leaver_territory=tid[anchor[REP_LEAVER]],
            leaver_accounts=tuple(ids.gather(self.leaver_rows).to_list()),
        )


# ---------------------------------------------------------------------------------------
# Contract conformance, bad rows and writing
# ---------------------------------------------------------------------------------------


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
    INBOUND_HOURS_TERRITORY: ("Inbound follow-the-sun", "Quantum Computing", "workload", None,
                              {"REP-BERLIN": 1.0, "REP-NEWYORK": 1.0}),
    INBOUND_SKILLS_TERRITORY: ("Inbound desk", "Space Systems", "workload",
                               INBOUND_SKILLS_QUEUE, {"REP-DESK-DE": 1.0, "REP-DESK-EN": 1.0}),
    INBOUND_RR_TERRITORY: ("Inbound round robin", "Service Robotics", "round_robin", None,
                           {"REP-RR-1": 2.0, "REP-RR-2": 1.0, "REP-RR-3": 1.0}),
    INBOUND_SLA_TERRITORY: ("Inbound SLA desk", "Fusion Energy", "workload", None,
                            {"REP-SLA-1": 1.0, "REP-SLA-2": 1.0}),
}


def _with_inbound_stories(frames: dict[str, pl.DataFrame], as_of: datetime
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
        [{"rep_id": rep_id, "name": name, "email": f"{_slug(name)}@{EMAIL_DOMAIN}",
          "role": "AE", "team": "Inbound", "segment": None,
          "manager_id": _INBOUND_MANAGERS.get(rep_id),
          "capacity": 40, "skills": skills, "timezone": zone, "working_hours": hours,
          "is_active": True}
         for rep_id, (name, zone, hours, skills) in _INBOUND_REPS.items()],
        schema=load_contracts()["reps"].polars_schema,
    )
    hr = pl.DataFrame(
        [{"email": email, "status": "active", "status_start": as_of.date() - timedelta(days=400),
          "status_end": None, "role": "AE", "updated_at": as_of - timedelta(days=30)}
         for email in reps["email"]],
        schema=load_contracts()["hr"].polars_schema,
    )
    territories = pl.DataFrame(
        [{"territory_id": tid, "name": name, "priority": 10, "industries": [industry],
          "overflow_queue": queue, "method": method}
         for tid, (name, industry, method, queue, _) in _INBOUND_TERRITORIES.items()]
    )
    members = pl.DataFrame(
        [{"territory_id": tid, "rep_id": rep_id, "weight": weight, "is_primary": True}
         for tid, (*_, team) in _INBOUND_TERRITORIES.items() for rep_id, weight in team.items()]
    )

    def lead(lead_id: str, n: int, territory: str, skills: list[str] | None = None
             ) -> dict[str, object]:
        return {"lead_id": lead_id, "email": f"buyer.{n}@inbound-story-{n}.example",
                "created_at": as_of - timedelta(minutes=30 - n),
                "company": f"Inbound Story {n} Ltd", "industry": _INBOUND_TERRITORIES[territory][1],
                "employees": 120, "source": "Web", "required_skills": skills}

    leads = pl.DataFrame([
        lead(LEAD_HOURS, 1, INBOUND_HOURS_TERRITORY),
        lead(LEAD_SKILL_DE, 2, INBOUND_SKILLS_TERRITORY, ["de", "security"]),
        lead(LEAD_SKILL_JA, 3, INBOUND_SKILLS_TERRITORY, ["ja"]),
        *[lead(f"LEAD-RR-{i}", 4 + i, INBOUND_RR_TERRITORY)
          for i in range(1, 1 + ROUND_ROBIN_LEADS)],
        {**lead(LEAD_SLA, 5 + ROUND_ROBIN_LEADS, INBOUND_SLA_TERRITORY),
         "source": LEAD_SLA_SOURCE},
    ])
    added = {"reps": reps, "hr": hr, "territories": territories,
             "territory_members": members, "leads": leads}
    return {entity: pl.concat([frame, _conform(added[entity], entity)])
            if entity in added else frame for entity, frame in frames.items()}


def _conform(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """Exactly the contract's columns, in contract order and contract types; optional
    columns the generator does not fill are empty."""
    schema = load_contracts()[entity].polars_schema
    return frame.select([
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in schema.items()
    ])


def _as_text(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """The CSV rendering: ISO timestamps without offset, `;`-joined lists, true/false."""
    exprs = []
    for col in contract.columns:
        c = pl.col(col.name)
        if col.type == "timestamp":
            exprs.append(c.dt.strftime("%Y-%m-%dT%H:%M:%S"))
        elif col.type == "date":
            exprs.append(c.dt.strftime("%Y-%m-%d"))
        elif col.type == "list":
            exprs.append(pl.when(c.list.len() > 0).then(c.list.join(";")))
        elif col.type == "boolean":
            exprs.append(pl.when(c).then(pl.lit("true")).when(~c).then(pl.lit("false")))
        else:
            exprs.append(c.cast(pl.String))
    return frame.select(
        [expr.alias(col.name) for expr, col in zip(exprs, contract.columns, strict=True)]
    )


def _set_cell(frame: pl.DataFrame, row: int, column: str, value: object) -> pl.DataFrame:
    dtype = frame.schema[column]
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value, dtype=dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _break_accounts(frame: pl.DataFrame, bad: _BadAccounts, as_text: bool) -> pl.DataFrame:
    """Contract-breaking rows, one of each kind; in Parquet the typed equivalents."""
    offset = 3  # story rows come first
    dup_source = frame.slice(offset + bad.duplicate_of, 1)
    base_name = dup_source["name"].str.replace(r"\s+\S+$", "")
    duplicate = dup_source.with_columns(name=base_name)
    at = offset + bad.duplicate
    frame = pl.concat([frame.slice(0, at), duplicate, frame.slice(at + 1)])
    frame = _set_cell(frame, offset + bad.empty_id, "account_id", None)
    frame = _set_cell(frame, offset + bad.not_numeric, "employees", "lots" if as_text else -40)
    frame = _set_cell(frame, offset + bad.bad_date, "created_at", "not-a-date" if as_text else None)
    return _set_cell(frame, offset + bad.bad_tier, "tier", "7" if as_text else 7)


def _break_others(
    entity: str, frame: pl.DataFrame, bad_lead: int, as_text: bool, as_of: datetime
) -> pl.DataFrame:
    if entity == "leads":
        return _set_cell(frame, 1 + bad_lead, "email", "not-an-email")
    if entity == "hr":
        retired = pl.DataFrame(
            {
                "email": ["sam.former@" + EMAIL_DOMAIN],
                "status": ["retired"],
                "status_start": [as_of.date() - timedelta(days=365)],
                "status_end": [None],
                "role": ["AE"],
                "updated_at": [as_of - timedelta(days=300)],
            }
        )
        retired = _conform(retired, "hr")
        if as_text:
            retired = _as_text(retired, load_contracts()["hr"])
        return pl.concat([frame, retired])
    return frame


def _write(frame: pl.DataFrame, path: Path, file_format: FileFormat) -> None:
    if file_format == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, compression="zstd", statistics=True)


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
