"""The demo org's stories, read back from the routing log of the latest published run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from switchboard import warehouse
from switchboard.generate import (
    ACME_LEAD,
    BACK_FROM_LEAVE_DAYS,
    GLOBEX_SUBSIDIARY,
    INBOUND_RR_TERRITORY,
    LEAD_HOURS,
    LEAD_SKILL_DE,
    LEAD_SKILL_JA,
    LEAD_SLA,
    LEAD_SLA_SOURCE,
    REP_LEAVE,
    REP_LEAVER,
    REP_LIGHT,
    REP_OVER,
    STORY_PEOPLE,
)
from switchboard.report.territory_fairness import DRIFT_ABSOLUTE, DRIFT_RELATIVE, beyond_tolerance


def _who(rep_id: str) -> str:
    """A story rep as the table names them: "Lee Leave (REP-LEAVE)"."""
    return f"{STORY_PEOPLE[rep_id]} ({rep_id})"


def _latest_decisions(path: Path) -> pl.DataFrame:
    """The decisions of the latest published hourly run (the demo's stories); a later
    arrivals pass only adds the SLA story's re-route (_sla_history)."""
    con = warehouse.connect(path, read_only=True)
    try:
        return warehouse.query(
            con,
            "select d.* from routing.decisions d join (select run_id from routing.runs "
            "where status = 'published' and mode = 'hourly' order by started_at desc "
            "limit 1) r using (run_id)",
        )
    finally:
        con.close()


def _sla_history(path: Path) -> pl.DataFrame:
    """Every published decision of the SLA story's lead, oldest first."""
    con = warehouse.connect(path, read_only=True)
    try:
        return warehouse.query(
            con,
            "select d.* from routing.decisions d join routing.runs r using (run_id) "
            "where r.status = 'published' and d.record_type = 'lead' and d.record_id = ? "
            "order by r.as_of, r.started_at",
            [LEAD_SLA],
        )
    finally:
        con.close()


def sla_row(history: pl.DataFrame) -> tuple[str, str] | None:
    """The SLA story from the lead's decisions: who the territory gave it to, and who a
    later run re-routed it to when nobody had touched it."""
    if history.is_empty():
        return None
    first = history.row(0, named=True)
    routed = (
        f"{first['owner_id'] or first['queue']} via {first['rule']} at {first['decided_at']:%H:%M}"
    )
    later = history.filter(pl.col("rule").is_in(["sla_reroute", "manager_review"]))
    if later.is_empty():
        return (f"Inbound lead from a {LEAD_SLA_SOURCE}, nobody touches it", routed + ".")
    last = later.row(-1, named=True)
    return (
        f"Inbound lead from a {LEAD_SLA_SOURCE}, nobody touches it (routing.yml sla:)",
        f"{routed}; at {last['decided_at']:%H:%M} {last['owner_id']} via {last['rule']}: "
        f"{last['rationale']}",
    )


def _overload_fairness(path: Path) -> pl.DataFrame:
    """marts.fct_territory_fairness's last 7 days of the territory REP-OVER and REP-LIGHT
    share (empty for a warehouse built before the mart existed)."""
    con = warehouse.connect(path, read_only=True)
    try:
        if not warehouse.table_exists(con, "marts.fct_territory_fairness"):
            return pl.DataFrame()
        return warehouse.query(
            con,
            "select * from marts.fct_territory_fairness where window_days = 7 and territory_id "
            "in (select territory_id from marts.dim_territory_members where rep_id = ? "
            "intersect select territory_id from marts.dim_territory_members where rep_id = ?)",
            [REP_OVER, REP_LIGHT],
        )
    finally:
        con.close()


def _drift_story(fairness: pl.DataFrame) -> tuple[str, str] | None:
    """How far the overload territory's picks drifted from the weighted shares."""
    if fairness.is_empty():
        return None
    marked = fairness.with_columns(beyond=beyond_tolerance().fill_null(False))
    rows = {row["rep_id"]: row for row in marked.iter_rows(named=True)}
    light, over = rows.get(REP_LIGHT), rows.get(REP_OVER)
    if light is None or over is None or not light["territory_records"]:
        return None
    flagged = int(marked["beyond"].sum())
    name = light["territory_name"] or light["territory_id"]
    return (
        f"{name}'s territory picks drifted over the last 7 days: {_who(REP_LIGHT)} "
        f"came back from leave {BACK_FROM_LEAVE_DAYS} days ago",
        f"{REP_LIGHT} got {light['records']} of the territory's {light['territory_records']} "
        f"picks in {light['available_days']} available days: expected "
        f"{light['expected_records']:.1f}, drift {light['drift_records']:+.1f} records "
        f"({'beyond' if light['beyond'] else 'within'} the tolerance of "
        f"{DRIFT_ABSOLUTE:g} + {DRIFT_RELATIVE:.0%}); {REP_OVER}, over capacity, got "
        f"{over['records']} (drift {over['drift_records']:+.1f}). Largest drift "
        f"{light['territory_max_abs_drift_records']:.1f} records, Gini "
        f"{light['territory_gini']:.2f}; warn_territory_pick_drift names {flagged} of its "
        f"{len(rows)} members.",
    )


def story_rows(path: Path) -> list[tuple[str, str]]:
    """(story, outcome) pairs for the demo org's fixed records and reps."""
    decisions = _latest_decisions(path)
    if decisions.is_empty():
        return []
    rows: list[tuple[str, str]] = []

    def one(record_id: str) -> dict[str, object] | None:
        hit = decisions.filter(pl.col("record_id") == record_id)
        return hit.row(0, named=True) if hit.height else None

    acme = one(ACME_LEAD)
    if acme:
        rows.append(
            (
                "Acme lead in California; Acme's NY account has a $180K open opportunity",
                f"{acme['owner_id'] or acme['queue']} via {acme['rule']}"
                f"{' (conflict logged)' if acme['conflict'] else ''}: {acme['rationale']}",
            )
        )
    globex = one(GLOBEX_SUBSIDIARY)
    if globex:
        rows.append(
            (
                "Globex Europe, subsidiary of named account Globex",
                f"{globex['owner_id'] or globex['queue']} via {globex['rule']}: "
                f"{globex['rationale']}",
            )
        )
    to_rep = decisions.filter(pl.col("rule") != "manager_review").group_by("owner_id").len()
    counts = dict(to_rep.iter_rows())
    by_territory = dict(
        decisions.filter(pl.col("rule") == "territory").group_by("owner_id").len().iter_rows()
    )
    rows.append(
        (
            f"{_who(REP_LEAVE)} is on leave",
            f"{counts.get(REP_LEAVE, 0)} new records went to {REP_LEAVE}; the book stays with her.",
        )
    )
    rows.append(
        (
            f"{_who(REP_OVER)} is above capacity; {_who(REP_LIGHT)} has room",
            f"By territory, {REP_OVER} received {by_territory.get(REP_OVER, 0)} and {REP_LIGHT} "
            f"{by_territory.get(REP_LIGHT, 0)} new records (leads of accounts {REP_OVER} already "
            f"owns still follow the account: {counts.get(REP_OVER, 0)}).",
        )
    )
    rows += _inbound_rows(decisions, one)
    sla = sla_row(_sla_history(path))
    if sla:
        rows.append(sla)
    drift = _drift_story(_overload_fairness(path))
    if drift:
        rows.append(drift)
    leaver = decisions.filter(pl.col("previous_owner_id") == REP_LEAVER)
    if leaver.height:
        by_rule = ", ".join(
            f"{n} {rule}" for rule, n in sorted(leaver.group_by("rule").len().iter_rows())
        )
        rows.append(
            (
                f"{_who(REP_LEAVER)} was terminated yesterday",
                f"{leaver.height} accounts redistributed the same day: {by_rule}.",
            )
        )
    return rows


def _inbound_rows(
    decisions: pl.DataFrame, one: Callable[[str], dict[str, object] | None]
) -> list[tuple[str, str]]:
    """The inbound-lead stories: working hours, skills, a round-robin territory."""
    rows: list[tuple[str, str]] = []

    def outcome(hit: dict[str, object]) -> str:
        return f"{hit['owner_id'] or hit['queue']} via {hit['rule']}: {hit['rationale']}"

    stories = (
        (
            LEAD_HOURS,
            "Inbound lead; Ana Silva (REP-BERLIN) works Mon-Fri 09:00-17:30 in "
            "Berlin, Ned Park (REP-NEWYORK) the same hours in New York",
        ),
        (
            LEAD_SKILL_DE,
            "Inbound lead needing skills de and security; only Dana Weber (REP-DESK-DE) has both",
        ),
        (LEAD_SKILL_JA, "Inbound lead needing skill ja, which nobody in the Inbound desk has"),
    )
    for record_id, story in stories:
        hit = one(record_id)
        if hit:
            rows.append((story, outcome(hit)))
    rr = decisions.filter(
        (pl.col("territory_id") == INBOUND_RR_TERRITORY) & (pl.col("rule") == "territory")
    )
    if rr.height:
        counts = dict(rr.group_by("owner_id").len().iter_rows())
        rows.append(
            (
                "Round-robin territory Inbound round robin, weights 2:1:1 (REP-RR-1, REP-RR-2, "
                "REP-RR-3)",
                f"{rr.height} new leads in rotation: "
                + ", ".join(
                    f"{rep} {counts.get(rep, 0)}" for rep in ("REP-RR-1", "REP-RR-2", "REP-RR-3")
                )
                + "; the next run continues the rotation where this one stopped.",
            )
        )
    return rows
