"""The fixed lists records draw their values from: segments, tiers and industries, company
and person names (with the company-name generator), e-mail domains, lead sources,
opportunity stages, activity types and skills.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from switchboard.generate.vectors import _pick

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
# The org's own e-mail domain (its reps), and the personal ones leads write from.
EMAIL_DOMAIN = "example-corp.com"
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
