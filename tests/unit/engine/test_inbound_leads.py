"""Working hours, required skills and round-robin territories (inbound leads)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta

import polars as pl
import pytest

from switchboard.alerts import ALERTS, skill_gap_alerts
from switchboard.config import RoutingConfig
from switchboard.engine import rotation
from switchboard.engine.schedule import rep_schedule

from .conftest import T0, Org, decision

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
OFFICE = "Mon-Fri 09:00-17:30"
# Wednesday 2026-03-04: 08:00 UTC is 09:00 in Berlin and 03:00 in New York; 19:00 UTC is
# 20:00 in Berlin and 14:00 in New York; 23:00 UTC is after hours in both.
MORNING = datetime(2026, 3, 4, 8, 0)
EVENING = datetime(2026, 3, 4, 19, 0)
NIGHT = datetime(2026, 3, 4, 23, 0)


def _schedule(
    rows: list[tuple[str, str | None, str | None]], as_of: datetime
) -> dict[str, dict[str, object]]:
    reps = pl.LazyFrame(rows, schema=["rep_id", "timezone", "working_hours"], orient="row")
    return {row["rep_id"]: row for row in rep_schedule(reps, as_of).to_dicts()}


# ------------------------------------------------------------------------- schedule


def test_schedule_reads_ranges_in_the_reps_time_zone() -> None:
    rows = [
        ("ber", BERLIN, OFFICE),
        ("ny", NEW_YORK, OFFICE),
        ("always", None, None),
        ("short-friday", BERLIN, "mon-thu 09:00-17:00; Fri 9:00-13:00"),
    ]
    morning = _schedule(rows, MORNING)
    assert morning["ber"]["working_now"] and morning["always"]["working_now"]
    assert not morning["ny"]["working_now"]
    assert morning["ny"]["next_start"] == datetime(2026, 3, 4, 14, 0)  # 09:00 EST
    assert morning["ny"]["next_start_text"] == "09:00 America/New_York"
    friday_afternoon = _schedule(rows, datetime(2026, 3, 6, 13, 0))  # 14:00 in Berlin
    assert friday_afternoon["ber"]["working_now"]
    assert not friday_afternoon["short-friday"]["working_now"]
    assert friday_afternoon["short-friday"]["next_start_text"] == "Mon 09:00 Europe/Berlin"
    assert friday_afternoon["short-friday"]["next_start"] == datetime(2026, 3, 9, 8, 0)


def test_schedule_handles_overnight_shifts_wrapping_days_and_daylight_saving() -> None:
    rows = [
        ("night", "Asia/Tokyo", "Sun-Thu 22:00-06:00"),
        ("weekend", "UTC", "Sat-Sun 10:00-14:00"),
        ("ber", BERLIN, OFFICE),
    ]
    # Thursday 00:30 in Tokyo: the Wednesday night shift is still running.
    assert _schedule(rows, datetime(2026, 3, 4, 15, 30))["night"]["working_now"]
    # Saturday 12:00 UTC: the weekend shift; the office rep next starts Monday.
    saturday = _schedule(rows, datetime(2026, 3, 7, 12, 0))
    assert saturday["weekend"]["working_now"] and not saturday["ber"]["working_now"]
    # Europe moves to summer time on 2026-03-29: Monday 09:00 in Berlin is 07:00 UTC.
    sunday = _schedule(rows, datetime(2026, 3, 29, 12, 0))
    assert sunday["ber"]["next_start"] == datetime(2026, 3, 30, 7, 0)
    # A shift starting in the skipped hour starts when the clocks show that time after it.
    gap = _schedule([("early", BERLIN, "Sun 02:30-05:00")], datetime(2026, 3, 28, 12, 0))
    assert gap["early"]["next_start"] == datetime(2026, 3, 29, 1, 30)  # 03:30 CEST


# --------------------------------------------------------------------- working hours


def _follow_the_sun(**lead: object) -> Org:
    return (
        Org()
        .rep("ANA", "Ana Silva", timezone=BERLIN, hours=OFFICE)
        .rep("NED", "Ned Park", timezone=NEW_YORK, hours=OFFICE)
        .territory("T-INBOUND", ["ANA", "NED"], name="Inbound")
        .lead("L1", territories=["T-INBOUND"], **lead)  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("as_of", "working"), [(MORNING, "ANA"), (EVENING, "NED")])
def test_a_lead_goes_to_the_member_working_now(as_of: datetime, working: str) -> None:
    # The working member carries more: the workload pick alone would choose the other.
    org = _follow_the_sun().set_index(working, 50.0)
    row = decision(org.route(as_of=as_of), "L1")
    assert (row["rule"], row["owner_id"]) == ("territory", working)
    assert "outside working hours" not in row["rationale"]
    idle = {
        "ANA": "Ned Park (starts 09:00 America/New_York)",
        "NED": "Ana Silva (starts Thu 09:00 Europe/Berlin)",
    }[working]
    assert row["rationale"].endswith(f"; not working now: {idle}.")


def test_when_both_work_the_workload_pick_decides() -> None:
    both = datetime(2026, 3, 4, 15, 0)  # 16:00 in Berlin, 10:00 in New York
    assert (
        decision(_follow_the_sun().set_index("ANA", 50.0).route(as_of=both), "L1")["owner_id"]
        == "NED"
    )


def test_outside_everyones_hours_the_next_shift_takes_it_and_says_so() -> None:
    row = decision(_follow_the_sun().route(as_of=NIGHT), "L1")
    assert row["owner_id"] == "ANA"  # 09:00 in Berlin comes before 09:00 in New York
    assert "outside working hours; Ana Silva starts 09:00 Europe/Berlin" in row["rationale"]


def test_next_shift_ties_go_by_workload() -> None:
    org = (
        Org()
        .rep("A", timezone=BERLIN, hours=OFFICE, index=40.0)
        .rep("B", timezone="Europe/Paris", hours=OFFICE, index=10.0)
        .territory("T", ["A", "B"])
        .lead("L1", territories=["T"])
    )
    assert decision(org.route(as_of=NIGHT), "L1")["owner_id"] == "B"


def test_accounts_ignore_working_hours() -> None:
    org = _follow_the_sun().set_index("NED", 50.0).account("ACC-1", territories=["T-INBOUND"])
    result = org.route(as_of=NIGHT)
    row = decision(result, "ACC-1")
    assert row["owner_id"] == "ANA"  # lightest, off hours or not
    assert "working" not in row["rationale"]
    org = _follow_the_sun().set_index("ANA", 50.0).account("ACC-1", territories=["T-INBOUND"])
    assert decision(org.route(as_of=MORNING), "ACC-1")["owner_id"] == "NED"  # NY asleep


def test_working_hours_never_skip_the_earlier_rules() -> None:
    org = (
        _follow_the_sun()
        .account("ACC-1", "NED", territories=["T-INBOUND"])
        .lead("L2", account="ACC-1", territories=["T-INBOUND"])
    )
    row = decision(org.route(as_of=MORNING), "L2")  # Ned is asleep, but owns the account
    assert (row["rule"], row["owner_id"]) == ("account_owner", "NED")


def test_leave_still_comes_first_and_off_hours_picks_among_available_members() -> None:
    org = (
        Org()
        .rep("ANA", timezone=BERLIN, hours=OFFICE, availability="on_leave")
        .rep("NED", timezone=NEW_YORK, hours=OFFICE)
        .territory("T", ["ANA", "NED"])
        .lead("L1", territories=["T"])
    )
    assert decision(org.route(as_of=MORNING), "L1")["owner_id"] == "NED"


# ----------------------------------------------------------------------------- skills


def _desk() -> Org:
    return (
        Org()
        .rep("DE", "Dana", skills=["DE", "Security"], index=60.0)
        .rep("EN", "Eli", skills=["en"])
        .rep("ALL", "Al", skills=["de", "security", "en"], availability="on_leave")
        .territory("T-DESK", ["DE", "EN", "ALL"], name="Desk", queue="desk-overflow")
    )


def test_a_lead_goes_only_to_a_member_with_all_its_skills_ignoring_case() -> None:
    org = _desk().lead("L-DE", territories=["T-DESK"], skills=["de", "SECURITY"])
    org.lead("L-PLAIN", territories=["T-DESK"])
    result = org.route()
    row = decision(result, "L-DE")
    assert row["owner_id"] == "DE"  # the heavier member, the only one available with both
    assert "has skills de, security" in row["rationale"]
    assert decision(result, "L-PLAIN")["owner_id"] == "EN"


def test_nobody_with_the_skills_sends_the_lead_to_overflow_and_raises_a_rule_gap() -> None:
    org = _desk().lead("L-JA", territories=["T-DESK"], skills=["ja", "de"])
    result = org.route()
    row = decision(result, "L-JA")
    assert (row["rule"], row["queue"]) == ("overflow_queue", "desk-overflow")
    assert row["rationale"] == (
        "No member with skills de, ja in territory Desk; sent to overflow queue desk-overflow."
    )
    assert result.skill_gaps.select("territory_id", "skill", "leads").rows() == [
        ("T-DESK", "ja", 1)
    ]
    alerts = skill_gap_alerts(result.skill_gaps.lazy(), "run-1", "revops", T0).collect()
    assert alerts.select("type", "record_type", "record_id", "severity").rows() == [
        ("rule_gap", "lead", "L-JA", "warning")
    ]
    assert alerts.columns == list(ALERTS)
    assert "has skill ja" in alerts["message"][0] and "desk-overflow" in alerts["message"][0]


def test_skilled_members_who_cannot_take_it_are_named_as_such() -> None:
    org = _desk().lead("L-EN", territories=["T-DESK"], skills=["en", "security"])
    row = decision(org.route(), "L-EN")  # only Al has both, and Al is on leave
    assert row["rule"] == "overflow_queue"
    assert row["rationale"].startswith(
        "No member of territory Desk with skills en, security could take it"
    )
    assert org.route().skill_gaps.is_empty()


def test_a_member_is_not_handed_out_twice_to_plain_and_skilled_leads() -> None:
    """Plain leads and leads needing skills are placed in separate groups: the member
    they share takes no more than its headroom below high water."""
    config = RoutingConfig()
    delta = 100 * config.workload.weights.inbound_last_7d / 2  # capacity 2
    slots = math.ceil(config.workload.high_water / delta)
    org = Org().rep("A", skills=["de"], capacity=2).territory("T", ["A"], queue="q")
    for n in range(slots + 2):
        org.lead(f"L{n}", territories=["T"], skills=["de"] if n % 2 else None)
    owners = Counter(org.route().decisions["owner_id"].to_list())
    assert owners == {"A": slots, None: 2}


def test_skills_and_working_hours_combine() -> None:
    org = (
        Org()
        .rep("DE-NY", skills=["de"], timezone=NEW_YORK, hours=OFFICE)
        .rep("DE-BER", skills=["de"], timezone=BERLIN, hours=OFFICE, index=70.0)
        .rep("EN-BER", skills=["en"], timezone=BERLIN, hours=OFFICE)
        .territory("T", ["DE-NY", "DE-BER", "EN-BER"])
        .lead("L1", territories=["T"], skills=["de"])
    )
    assert decision(org.route(as_of=MORNING), "L1")["owner_id"] == "DE-BER"
    night = decision(org.route(as_of=NIGHT), "L1")
    assert night["owner_id"] == "DE-BER"  # of the two with the skill, Berlin starts first


# ------------------------------------------------------------------------ round robin


def _rr_org(weights: dict[str, float], leads: int, start: int = 0, **reps: dict) -> Org:
    org = Org()
    for rep_id in weights:
        org.rep(rep_id, **reps.get(rep_id, {}))
    org.territory("T-RR", weights, method="round_robin")
    for i in range(leads):
        org.lead(
            f"L{start + i:04d}", territories=["T-RR"], created_at=T0 + timedelta(seconds=start + i)
        )
    return org


def _runs(weights: dict[str, float], batches: list[int]) -> tuple[Counter[str], list[str]]:
    """Route ``batches`` leads per run, carrying routing.round_robin between runs."""
    counts: Counter[str] = Counter()
    sequence: list[str] = []
    state = pl.DataFrame(schema=rotation.STATE_SCHEMA)
    seen = 0
    for n, size in enumerate(batches):
        org = _rr_org(weights, size, start=seen).with_rotation(state)
        result = org.route(run_id=f"run-{n}")
        state = result.round_robin
        sequence += result.decisions.sort("record_id")["owner_id"].to_list()
        counts.update(result.decisions["owner_id"].to_list())
        seen += size
    return counts, sequence


def test_round_robin_rotates_by_weight_and_continues_across_runs() -> None:
    counts, sequence = _runs({"A": 2.0, "B": 1.0, "C": 1.0}, [3, 1, 4, 4])
    assert counts == {"A": 6, "B": 3, "C": 3}
    # One unbroken rotation: the second run went on where the first stopped.
    one_run, _ = _runs({"A": 2.0, "B": 1.0, "C": 1.0}, [12])
    assert sequence == _runs({"A": 2.0, "B": 1.0, "C": 1.0}, [12])[1]
    assert one_run == counts


def test_round_robin_ignores_workload_but_skips_the_unavailable_and_full() -> None:
    org = _rr_org(
        {"A": 1.0, "B": 1.0, "C": 1.0},
        6,
        A={"index": 70.0},
        B={"availability": "on_leave"},
        C={"index": 0.0},
    )
    result = org.route()
    owners = Counter(result.decisions["owner_id"].to_list())
    assert owners == {"A": 3, "C": 3}  # B's turns are skipped, A's load does not matter
    assert "round-robin rotation" in result.decisions["rationale"][0]
    full = _rr_org({"A": 1.0, "B": 1.0}, 4, A={"index": 100.0}).route()
    assert Counter(full.decisions["owner_id"].to_list()) == {"B": 4}


def test_a_changed_team_starts_a_new_rotation() -> None:
    first = _rr_org({"A": 1.0, "B": 1.0}, 1).route()
    assert first.round_robin["position"].to_list() == [1]
    again = _rr_org({"A": 1.0, "B": 1.0, "C": 1.0}, 1).with_rotation(first.round_robin).route()
    assert again.decisions["owner_id"].to_list() == ["A"]  # position 0 of the new cycle
    assert again.round_robin["cycle_key"][0] != first.round_robin["cycle_key"][0]


def test_workload_stays_the_default_method() -> None:
    org = Org().rep("A", index=50.0).rep("B").territory("T", ["A", "B"])
    for i in range(2):
        org.lead(f"L{i}", territories=["T"])
    result = org.route()
    assert result.decisions["owner_id"].to_list() == ["B", "B"]
    assert result.round_robin.is_empty()


def test_cycles_are_fair_at_every_prefix() -> None:
    order = rotation.cycle((3, 1, 1, 1, 1))
    assert Counter(order) == {0: 3, 1: 1, 2: 1, 3: 1, 4: 1}
    taken = [0] * 5
    for n, member in enumerate(order, start=1):
        taken[member] += 1
        assert all(abs(taken[m] - n * w / 7) < 1 for m, w in enumerate((3, 1, 1, 1, 1)))
    assert rotation.integer_weights((1.5, 0.5, 1.0)) == (3, 1, 2)
