"""First-touch SLA: a lead a territory gave a rep who did not touch it in time is re-routed
to another member (never back, never to a rep who already had it), at most
``sla.max_reroutes`` times, then kept for manager review (docs/ARCHITECTURE.md,
"First-touch SLA")."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from switchboard.engine import sla
from switchboard.engine.eligibility import Selection
from switchboard.engine.schema import SLA_BREACHES

from .conftest import AS_OF, Org, config_with, decision

SLA = config_with(sla={"first_touch_minutes": 30, "max_reroutes": 2})
AGO_45 = AS_OF - timedelta(minutes=45)


def desk(
    *,
    ana: dict[str, object] | None = None,
    ben: dict[str, object] | None = None,
    cy: dict[str, object] | None = None,
) -> Org:
    """A three-member desk; Ana has the lead (routed 45 minutes ago, untouched) and Ben is
    lighter than Cy."""
    return (
        Org()
        .rep("R-ANA", "Ana Lopez", **(ana or {}))  # type: ignore[arg-type]
        .rep("R-BEN", "Ben Ruiz", **{"index": 10.0, **(ben or {})})  # type: ignore[arg-type]
        .rep("R-CY", "Cy Diaz", **{"index": 20.0, **(cy or {})})  # type: ignore[arg-type]
        .territory("T-DESK", ["R-ANA", "R-BEN", "R-CY"], name="Inbound desk")
        .lead("L1", "R-ANA", territories=["T-DESK"])
    )


def test_an_untouched_lead_past_its_deadline_goes_to_another_member() -> None:
    result = desk().clock("L1", "R-ANA", "T-DESK", AGO_45).route(SLA)
    row = decision(result, "L1")
    assert (row["rule"], row["previous_owner_id"], row["owner_id"], row["territory_id"]) == (
        "sla_reroute",
        "R-ANA",
        "R-BEN",
        "T-DESK",
    )
    assert row["rationale"] == (
        "Not touched within 30 min by Ana Lopez; re-routed (1 of 2) by territory Inbound "
        "desk to Ben Ruiz (lightest available member, index 10)."
    )
    assert row["candidates"] == ["sla_reroute:T-DESK:R-BEN"]
    assert not row["conflict"]
    assert result.sla_breaches.to_dicts() == [
        {
            "record_id": "L1",
            "previous_owner_id": "R-ANA",
            "owner_id": "R-BEN",
            "rule": "sla_reroute",
            "territory_id": "T-DESK",
            "territory_name": "Inbound desk",
            "clock_started_at": AGO_45,
            "first_touch_minutes": 30,
            "reroute": 1,
            "reroutes_before": 0,
            "max_reroutes": 2,
        }
    ]


def test_the_new_owner_counts_the_lead_like_any_pick() -> None:
    result = desk().clock("L1", "R-ANA", "T-DESK", AGO_45).route(SLA)
    state = {r["rep_id"]: r for r in result.rep_state.to_dicts()}
    assert max(r["rr_position"] for r in state.values()) == state["R-BEN"]["rr_position"]


def test_never_a_rep_who_already_had_the_lead() -> None:
    """Ben had it before Cy (one re-route behind it): Ana, lightest, is not the owner who
    let it lapse but had it too; it goes to Dee, the heaviest."""
    org = desk(ana={"index": 0.0}).rep("R-DEE", "Dee Park", index=60.0)
    org.members.append(
        {"territory_id": "T-DESK", "rep_id": "R-DEE", "weight": 1.0, "territory_method": None}
    )
    org.leads[0]["owner_id"] = "R-CY"
    org.clock("L1", "R-CY", "T-DESK", AGO_45, reroutes=1, held_by=["R-ANA", "R-BEN", "R-CY"])
    row = decision(org.route(SLA), "L1")
    assert (row["rule"], row["owner_id"], row["previous_owner_id"]) == (
        "sla_reroute",
        "R-DEE",
        "R-CY",
    )
    assert row["rationale"].startswith(
        "Not touched within 30 min by Cy Diaz; re-routed (2 of 2) by territory Inbound desk "
        "to Dee Park"
    )


def test_after_max_reroutes_the_next_breach_goes_to_manager_review() -> None:
    org = desk()
    org.clock("L1", "R-ANA", "T-DESK", AGO_45, reroutes=2, held_by=["R-ANA", "R-CY", "R-DEE"])
    result = org.route(SLA)
    row = decision(result, "L1")
    assert (row["rule"], row["owner_id"], row["previous_owner_id"], row["queue"]) == (
        "manager_review",
        "R-ANA",
        "R-ANA",
        None,
    )
    assert row["rationale"] == (
        "Not touched within 30 min by Ana Lopez after 2 re-routes "
        "(sla.max_reroutes); kept for manager review."
    )
    assert row["candidates"] == ["manager_review:T-DESK:R-ANA"]
    assert result.sla_breaches.select("rule", "owner_id", "reroute", "reroutes_before").rows() == [
        ("manager_review", None, None, 2)
    ]


def test_max_reroutes_zero_sends_the_first_breach_to_manager_review() -> None:
    config = config_with(sla={"first_touch_minutes": 30, "max_reroutes": 0})
    row = decision(desk().clock("L1", "R-ANA", "T-DESK", AGO_45).route(config), "L1")
    assert row["rule"] == "manager_review"
    assert row["rationale"] == (
        "Not touched within 30 min by Ana Lopez (sla.max_reroutes is 0); kept for manager review."
    )


def test_nobody_else_able_to_take_it_is_a_manager_review() -> None:
    org = desk(ben={"availability": "on_leave"}, cy={"index": 100.0})
    row = decision(org.clock("L1", "R-ANA", "T-DESK", AGO_45).route(SLA), "L1")
    assert (row["rule"], row["owner_id"]) == ("manager_review", "R-ANA")
    assert row["rationale"] == (
        "Not touched within 30 min by Ana Lopez; no other member of territory Inbound desk "
        "could take it (Ben Ruiz (on leave), Cy Diaz (at capacity, index 100) skipped, the "
        "rest at capacity or held it); kept for manager review."
    )


def test_a_touched_lead_is_left_alone() -> None:
    """Any activity of the owner on the lead from the clock's start to the as-of, even one
    after the deadline, saves it; one after the as-of (a replay) does not."""
    for touched, rerouted in (
        (AGO_45 + timedelta(minutes=5), False),
        (AS_OF - timedelta(minutes=1), False),
        (AS_OF, False),
        (AS_OF + timedelta(minutes=1), True),
    ):
        result = desk().clock("L1", "R-ANA", "T-DESK", AGO_45, touched=touched).route(SLA)
        assert result.decisions["record_id"].to_list() == (["L1"] if rerouted else []), touched


def test_a_lead_inside_its_window_is_left_alone() -> None:
    for minutes, rerouted in ((29, False), (30, True), (31, True)):
        started = AS_OF - timedelta(minutes=minutes)
        result = desk().clock("L1", "R-ANA", "T-DESK", started).route(SLA)
        assert result.decisions["record_id"].to_list() == (["L1"] if rerouted else []), minutes


def test_only_the_listed_sources_ignoring_case_and_spaces() -> None:
    config = config_with(sla={"first_touch_minutes": 30, "sources": ["Demo Request"]})
    for source, rerouted in ((" demo REQUEST ", True), ("Web", False), (None, False)):
        result = desk().clock("L1", "R-ANA", "T-DESK", AGO_45, source=source).route(config)
        assert result.decisions["record_id"].to_list() == (["L1"] if rerouted else []), source


def test_a_lead_reassigned_by_hand_in_the_crm_is_not_ours() -> None:
    org = desk().clock("L1", "R-ANA", "T-DESK", AGO_45)
    org.leads[0]["owner_id"] = "R-CY"  # someone gave it to Cy in the CRM
    assert org.route(SLA).decisions.is_empty()


def test_an_owner_who_left_is_repaired_not_re_routed_for_the_sla() -> None:
    org = desk(ana={"availability": "terminated"}).clock("L1", "R-ANA", "T-DESK", AGO_45)
    row = decision(org.route(SLA), "L1")
    assert row["rule"] == "territory" and row["rationale"].startswith("Owner Ana Lopez left")
    assert org.route(SLA).sla_breaches.is_empty()


def test_a_clock_older_than_the_horizon_or_not_yet_started_is_not_checked() -> None:
    for started in (AS_OF - sla.HORIZON, AS_OF + timedelta(minutes=1)):
        assert desk().clock("L1", "R-ANA", "T-DESK", started).route(SLA).decisions.is_empty()


def test_without_sla_settings_or_in_a_departure_clocks_are_ignored() -> None:
    org = desk().clock("L1", "R-ANA", "T-DESK", AGO_45)
    assert org.route().decisions.is_empty()
    departure = org.route(SLA, mode="departure", leavers=("R-CY",))
    assert departure.decisions.is_empty() and departure.sla_breaches.is_empty()
    assert not Selection(leavers_only=True).checks_sla(SLA)


def test_a_scoped_run_decides_breaches_outside_its_scope() -> None:
    """An arrivals pass decides its new records and the leads whose SLA ran out."""
    from switchboard.engine import route

    org = desk().clock("L1", "R-ANA", "T-DESK", AGO_45).lead("L-NEW", territories=["T-DESK"])
    frames = org.frames()
    inputs = org.inputs()
    scoped = type(inputs)(
        **{
            **{f: getattr(inputs, f) for f in frames},
            "scope": pl.LazyFrame({"record_type": ["lead"], "record_id": ["L-NEW"]}),
        }
    )
    result = route(scoped, SLA, run_id="pass", as_of=AS_OF)
    rules = dict(result.decisions.select("record_id", "rule").iter_rows())
    assert rules == {"L1": "sla_reroute", "L-NEW": "territory"}
    # The new lead took Ben first (lightest); the re-routed one, placed after it, too,
    # unless Ben's index passed Cy's.
    assert decision(result, "L1")["owner_id"] in {"R-BEN", "R-CY"}


def test_working_hours_pause_the_clock_and_steer_the_re_route() -> None:
    """Ana works 09:00-17:00 UTC on weekdays and got the lead at 16:50 on Friday: at 09:19
    on Monday 29 of her working minutes have passed, at 09:25 35, and it is re-routed, to
    Cy, who works now, rather than Ben, lighter but off shift until 13:00."""
    monday_9 = datetime(2026, 11, 23, 9, 0)
    started = datetime(2026, 11, 20, 16, 50)  # Friday
    hours = {"timezone": "UTC", "hours": "Mon-Fri 09:00-17:00"}
    org = desk(ana=hours, ben={"timezone": "UTC", "hours": "Mon-Fri 13:00-21:00"})
    org.clock("L1", "R-ANA", "T-DESK", started)
    assert org.route(SLA, as_of=monday_9 + timedelta(minutes=19)).decisions.is_empty()
    row = decision(org.route(SLA, as_of=monday_9 + timedelta(minutes=25)), "L1")
    assert (row["rule"], row["owner_id"]) == ("sla_reroute", "R-CY")
    assert "; not working now: Ben Ruiz (starts 13:00 UTC)" in row["rationale"]


def test_working_minutes_count_shift_overlaps_once_on_the_local_clock() -> None:
    clocks = pl.DataFrame(
        {
            "lead_id": ["L-ALWAYS", "L-UTC", "L-NIGHT", "L-BERLIN"],
            "owner_id": ["R1", "R2", "R3", "R4"],
            "clock_started_at": [
                datetime(2026, 11, 23, 16, 50),
                datetime(2026, 11, 20, 16, 0),
                datetime(2026, 11, 23, 21, 0),
                datetime(2026, 11, 23, 8, 0),
            ],
            "timezone": [None, "UTC", None, "Europe/Berlin"],
            "working_hours": [
                None,
                "Mon-Fri 09:00-17:00",
                "Sun-Thu 22:00-06:00; Mon 23:00-23:30",
                "Mon-Fri 09:00-17:30",
            ],
        }
    )
    minutes = dict(sla.working_minutes(clocks, datetime(2026, 11, 24, 9, 30)).iter_rows())
    assert minutes == {
        "L-ALWAYS": 1000.0,  # 16:50 to 09:30 the next day
        "L-UTC": 60 + 480 + 30,  # Friday's last hour, Monday, Tuesday's first half hour
        "L-NIGHT": 480.0,  # Monday 22:00 to Tuesday 06:00, the 23:00 shift inside it
        "L-BERLIN": 510 + 90,  # 09:00-17:30 and 09:00-10:30 Berlin time
    }


def test_breaches_schema_when_nothing_breached() -> None:
    result = desk().route(SLA)
    assert result.sla_breaches.is_empty()
    assert result.sla_breaches.schema == pl.Schema(SLA_BREACHES)


def test_a_round_robin_territory_gives_the_lead_to_the_next_turn_that_never_had_it() -> None:
    """The rotation would give Ana the next turn: she let the lead lapse, so the turn after
    hers takes it, and the rotation moves on past both."""
    org = (
        Org()
        .rep("R-ANA", "Ana Lopez")
        .rep("R-BEN", "Ben Ruiz")
        .rep("R-CY", "Cy Diaz")
        .territory("T-RR", ["R-ANA", "R-BEN", "R-CY"], name="Rotation", method="round_robin")
        .lead("L1", "R-ANA", territories=["T-RR"])
        .clock("L1", "R-ANA", "T-RR", AGO_45)
    )
    result = org.route(SLA)
    row = decision(result, "L1")
    assert (row["rule"], row["owner_id"]) == ("sla_reroute", "R-BEN")
    assert "(next in the round-robin rotation, index 0)" in row["rationale"]
    assert result.round_robin["position"].to_list() == [2]
