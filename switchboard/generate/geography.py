"""Where records can be: regions, US states, Canadian provinces and the countries of each
region, cut into *cells* (country, state, postal prefix), the atoms territories are cut
from; and the postal codes and the spellings of countries and states records carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from switchboard.generate.vectors import _concat, _digits, _letters, _pick

# ---------------------------------------------------------------------------------------
# Places: regions, US states, Canadian provinces, countries
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# Cells: the atoms territories are cut from
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
# Postal codes and spellings
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
