"""Properties of working hours, skills and round robin over random small teams (hypothesis).

The oracles here are written independently of the engine: working hours are checked
shift by shift with ``zoneinfo``, skills with Python sets, round-robin shares with
arithmetic on the weights.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.config import RoutingConfig
from switchboard.engine import rotation

from .conftest import T0, Org

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# One shift pattern: (first day, last day, start minute, end minute); end <= start runs
# past midnight.
shift = st.tuples(
    st.integers(0, 6),
    st.integers(0, 6),
    st.integers(0, 23 * 4).map(lambda q: q * 15),
    st.integers(1, 24 * 4).map(lambda q: q * 15),
)
rep_hours = st.one_of(st.none(), st.lists(shift, min_size=1, max_size=2))


def _text(shifts: list[tuple[int, int, int, int]]) -> str:
    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return "; ".join(f"{DAYS[a]}-{DAYS[b]} {hhmm(s)}-{hhmm(e)}" for a, b, s, e in shifts)


def _days(first: int, last: int) -> set[int]:
    return {d % 7 for d in range(first, last + 1 + (7 if last < first else 0))}


def _working(shifts: list[tuple[int, int, int, int]] | None, zone: str, at: datetime) -> bool:
    if shifts is None:
        return True
    local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    minute, today = local.hour * 60 + local.minute, local.weekday()
    for first, last, start, stop in shifts:
        end = stop if stop > start else stop + 1440
        days = _days(first, last)
        if today in days and start <= minute < end:
            return True
        if (today - 1) % 7 in days and start <= minute + 1440 < end:
            return True
    return False


def _next_start(shifts: list[tuple[int, int, int, int]], zone: str, at: datetime) -> datetime:
    tz = ZoneInfo(zone)
    local = at.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = []
    for offset in range(8):
        day = midnight + timedelta(days=offset)
        for first, last, start, _ in shifts:
            begin = day + timedelta(minutes=start)
            if day.weekday() in _days(first, last) and begin > local:
                starts.append(begin.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None))
    return min(starts)


@settings(max_examples=25, deadline=None)
@given(
    team=st.lists(st.tuples(st.sampled_from(ZONES), rep_hours), min_size=1, max_size=4),
    minutes=st.integers(0, 14 * 24 * 60),
    leads=st.integers(1, 4),
)
def test_leads_go_to_working_members_while_one_works(
    team: list[tuple[str, list[tuple[int, int, int, int]] | None]], minutes: int, leads: int
) -> None:
    as_of = datetime(2026, 3, 20) + timedelta(minutes=minutes)  # spans Europe's DST change
    org = Org()
    for i, (zone, shifts) in enumerate(team):
        org.rep(f"R{i}", timezone=zone, hours=_text(shifts) if shifts else None)
    org.territory("T", [f"R{i}" for i in range(len(team))])
    for n in range(leads):
        org.lead(f"L{n}", territories=["T"])
    result = org.route(as_of=as_of)
    working = {f"R{i}" for i, (zone, shifts) in enumerate(team) if _working(shifts, zone, as_of)}
    owners = set(result.decisions["owner_id"].to_list())
    assert None not in owners  # capacity is ample: every lead is placed
    if working:
        assert owners <= working
        assert not result.decisions["rationale"].str.contains("outside working hours").any()
    else:
        first = min(_next_start(shifts, zone, as_of) for zone, shifts in team if shifts)
        earliest = {
            f"R{i}"
            for i, (zone, shifts) in enumerate(team)
            if shifts and _next_start(shifts, zone, as_of) == first
        }
        assert owners <= earliest
        assert result.decisions["rationale"].str.contains("outside working hours").all()


SKILLS = ["de", "fr", "security", "cloud"]


@settings(max_examples=25, deadline=None)
@given(
    team=st.lists(
        st.tuples(st.sets(st.sampled_from(SKILLS)), st.booleans()), min_size=1, max_size=4
    ),
    needs=st.lists(st.sets(st.sampled_from(SKILLS), max_size=2), min_size=1, max_size=5),
)
def test_skills_are_respected(team: list[tuple[set[str], bool]], needs: list[set[str]]) -> None:
    org = Org()
    for i, (skills, available) in enumerate(team):
        org.rep(
            f"R{i}",
            skills=[s.upper() for s in sorted(skills)],
            availability="available" if available else "on_leave",
        )
    org.territory("T", [f"R{i}" for i in range(len(team))], queue="q")
    for n, skills in enumerate(needs):
        org.lead(f"L{n}", territories=["T"], skills=sorted(skills))
    result = org.route()
    for n, skills in enumerate(needs):
        row = result.decisions.filter(pl.col("record_id") == f"L{n}").row(0, named=True)
        able = [i for i, (has, available) in enumerate(team) if available and skills <= has]
        if row["owner_id"] is not None:
            assert skills <= team[int(row["owner_id"][1:])][0]
        else:
            assert not able  # capacity is ample: only skills or availability can stop it
            assert row["queue"] == "q"
            if skills and not any(skills <= has for has, _ in team):
                assert f"No member with skills {', '.join(sorted(skills))}" in row["rationale"]
    missing = {(s) for skills in needs for s in skills} - {s for has, _ in team for s in has}
    assert set(result.skill_gaps["skill"].to_list()) == missing


@settings(max_examples=20, deadline=None)
@given(
    weights=st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 4.0]), min_size=1, max_size=5),
    batches=st.lists(st.integers(1, 9), min_size=1, max_size=4),
)
def test_round_robin_gives_each_rep_its_weighted_share_within_one(
    weights: list[float], batches: list[int]
) -> None:
    team = {f"R{i}": w for i, w in enumerate(weights)}
    state = pl.DataFrame(schema=rotation.STATE_SCHEMA)
    counts: Counter[str] = Counter()
    routed = 0
    for run, size in enumerate(batches):
        org = Org()
        for rep_id in team:
            org.rep(rep_id)
        org.territory("T", team, method="round_robin")
        for n in range(size):
            org.lead(
                f"L{routed + n:03d}",
                territories=["T"],
                created_at=T0 + timedelta(seconds=routed + n),
            )
        result = org.with_rotation(state).route(run_id=f"run-{run}")
        state = result.round_robin
        counts.update(result.decisions["owner_id"].to_list())
        routed += size
        total = sum(weights)
        for rep_id, weight in team.items():
            assert abs(counts[rep_id] - routed * weight / total) <= 1


@settings(max_examples=25, deadline=None)
@given(
    team=st.lists(
        st.tuples(
            st.sets(st.sampled_from(SKILLS[:2])), st.floats(0, 99), st.sampled_from([1, 2, 5])
        ),
        min_size=1,
        max_size=3,
    ),
    needs=st.lists(st.sets(st.sampled_from(SKILLS[:2]), max_size=1), min_size=1, max_size=12),
    method=st.sampled_from(["workload", "round_robin"]),
)
def test_no_member_is_pushed_past_high_water_by_plain_and_skilled_leads(
    team: list[tuple[set[str], float, int]], needs: list[set[str]], method: str
) -> None:
    """Tight capacity, leads with and without skills, either method: every rep took its
    last lead while still below high water."""
    config = RoutingConfig()
    org = Org()
    for i, (skills, index, capacity) in enumerate(team):
        org.rep(f"R{i}", skills=sorted(skills), index=index, capacity=capacity)
    org.territory("T", [f"R{i}" for i in range(len(team))], method=method)
    for n, skills in enumerate(needs):
        org.lead(f"L{n}", territories=["T"], skills=sorted(skills))
    result = org.route(config)
    taken = Counter(result.decisions.filter(pl.col("rule") == "territory")["owner_id"])
    for rep_id, count in taken.items():
        _, index, capacity = team[int(rep_id[1:])]
        delta = 100 * config.workload.weights.inbound_last_7d / capacity
        assert index + (count - 1) * delta < config.workload.high_water
