"""Who works where: team sizes, the story reps' seats, the members of every territory (with
weights; small teams borrow, overlays draw specialists) and the managers over the reps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from switchboard.generate.geography import _REGION_THEATRE, _THEATRES, _Geo
from switchboard.generate.plan import _apportion, _Plan
from switchboard.generate.stories import (
    REP_DANA,
    REP_LEAVE,
    REP_LEAVER,
    REP_LIGHT,
    REP_MANAGER_EAST,
    REP_NAMED,
    REP_OVER,
)
from switchboard.generate.vectors import _choice


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
