"""The territory plan: teams by region and segment group, the geographic territories cut
from each team's cells, the overlay territories on top, and the seat apportionment that
sizes territories and teams.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from switchboard.generate.geography import _REGION_CODES, _US_REGIONS, REGIONS, _Geo
from switchboard.generate.vocabulary import _SEGMENT_EFFORT, _SEGMENT_P, ENT, MM, SEGMENTS, SMB

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
