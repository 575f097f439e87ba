"""The first-touch SLA end to end: a hand-made desk of two reps, routed by the morning's
hourly run; 45 minutes later an arrivals pass (the next pass after the 30-minute deadline)
re-routes the lead nobody touched to the other member, raises sla_breached to the
manager, and leaves alone the lead its owner touched, a touch the pass reads from the
export (the warehouse still holds the hourly run's activities)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl

from switchboard import runs
from tests.e2e.conftest import q

MORNING = datetime(2026, 11, 23, 9, 0)  # Monday
LATER = datetime(2026, 11, 23, 9, 45)

CONFIG = "sla:\n  first_touch_minutes: 30\n  sources: [Demo Request]\n  max_reroutes: 2\n"
EXPORT = {
    "reps.csv": "rep_id,name,email,role,manager_id\n"
    "R-ANA,Ana Lopez,ana@example.com,AE,R-MGR\n"
    "R-BEN,Ben Ruiz,ben@example.com,AE,R-MGR\n"
    "R-MGR,Mia Grant,mia@example.com,Sales Manager,\n",
    "hr.csv": "email,status\nana@example.com,active\nben@example.com,active\n"
    "mia@example.com,active\n",
    "accounts.csv": "account_id,name,created_at,country,industry,owner_id\n"
    "A1,Acme,2024-01-05,DE,Retail,R-ANA\nA2,Beta,2024-01-06,US,Retail,R-BEN\n",
    "territories.csv": "territory_id,name,priority,industries\n"
    "T-DESK,Inbound desk,1,Quantum Computing\n",
    "territory_members.csv": "territory_id,rep_id\nT-DESK,R-ANA\nT-DESK,R-BEN\n",
}
LEADS = "lead_id,email,created_at,company,industry,source\n"
MORNING_LEADS = (
    "L-1,kim@qubit-one.example,2026-11-23T08:30:00,Qubit One,Quantum Computing,Demo Request\n"
    "L-2,lee@qubit-two.example,2026-11-23T08:31:00,Qubit Two,Quantum Computing,Demo Request\n"
)
LATER_LEAD = "L-3,max@qubit-three.example,2026-11-23T09:40:00,Qubit Three,Quantum Computing,Web\n"


def _export(folder: Path, leads: str, activities: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        **EXPORT,
        "leads.csv": LEADS + leads,
        "activities.csv": "account_id,lead_id,rep_id,occurred_at,type\n" + activities,
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_an_untouched_lead_is_re_routed_by_the_next_pass_and_a_touched_one_stays(
    tmp_path: Path,
) -> None:
    warehouse, outbox = tmp_path / "w.duckdb", tmp_path / "outbox"
    config = tmp_path / "routing.yml"
    config.write_text(CONFIG)
    morning = runs.hourly(
        snapshot=str(_export(tmp_path / "morning", MORNING_LEADS)),
        warehouse=str(warehouse),
        outbox=str(outbox),
        config=str(config),
        as_of=MORNING.isoformat(),
    )
    first = dict(
        q(
            warehouse, "select record_id, owner_id from routing.decisions where rule = 'territory'"
        ).iter_rows()
    )
    assert morning.status == "published" and set(first) == {"L-1", "L-2"}
    # L-2's owner calls at 09:20; L-1's never does (an account activity of the same rep
    # and a call on L-1 by the other rep do not count for L-1).
    other = {"R-ANA": "R-BEN", "R-BEN": "R-ANA"}
    activities = (
        f",L-2,{first['L-2']},2026-11-23T09:20:00,call\n"
        f"A1,,{first['L-1']},2026-11-23T09:10:00,call\n"
        f",L-1,{other[first['L-1']]},2026-11-23T09:15:00,email\n"
    )
    later = runs.arrivals(
        snapshot=str(_export(tmp_path / "later", MORNING_LEADS + LATER_LEAD, activities)),
        warehouse=str(warehouse),
        outbox=str(outbox),
        config=str(config),
        as_of=LATER.isoformat(),
        say=lambda line: None,
    )
    assert later.status == "published"
    decided = q(
        warehouse,
        "select record_id, previous_owner_id, owner_id, rule, "
        "territory_id, rationale from routing.decisions "
        "where decided_at = ? order by record_id",
        [LATER],
    )
    assert decided.select("record_id", "rule").rows() == [
        ("L-1", "sla_reroute"),
        ("L-3", "territory"),
    ]
    rerouted = decided.row(0, named=True)
    lapsed = {"R-ANA": "Ana Lopez", "R-BEN": "Ben Ruiz"}[first["L-1"]]
    assert (rerouted["previous_owner_id"], rerouted["owner_id"], rerouted["territory_id"]) == (
        first["L-1"],
        other[first["L-1"]],
        "T-DESK",
    )
    assert rerouted["rationale"].startswith(
        f"Not touched within 30 min by {lapsed}; re-routed (1 of 2) by territory Inbound desk to "
    )
    alerts = [
        json.loads(line)
        for line in (outbox / later.run_id / "alerts.jsonl").read_text().splitlines()
    ]
    breached = [a for a in alerts if a["type"] == "sla_breached"]
    assert [(a["record_id"], a["recipient_id"], a["rep_id"]) for a in breached] == [
        ("L-1", "R-MGR", first["L-1"])
    ]
    # The CRM gets the new owner, with the lapsed one as the previous owner.
    lead_file = pl.read_csv(outbox / later.run_id / "Lead.csv")
    assert lead_file.filter(pl.col("Id") == "L-1").select(
        "OwnerId", "Previous_Owner__c", "Routing_Rule__c"
    ).row(0) == (other[first["L-1"]], first["L-1"], "sla_reroute")
    # The clocks as the model shows them: L-1's restarted with its new owner, one re-route
    # behind it. raw.activities still holds the hourly run's export, so L-2's touch is not
    # there yet: the pass took it from the export it read.
    clocks = q(
        warehouse,
        "select lead_id, owner_id, reroutes, held_by, first_touch_at "
        "from intermediate.int_lead_sla_clocks order by lead_id",
    )
    assert clocks.rows() == [
        ("L-1", other[first["L-1"]], 1, sorted(first.values()), None),
        ("L-2", first["L-2"], 0, [first["L-2"]], None),
        ("L-3", later_owner(warehouse), 0, [later_owner(warehouse)], None),
    ]


def later_owner(warehouse: Path) -> str:
    return str(
        q(warehouse, "select owner_id from routing.decisions where record_id = 'L-3'").item()
    )
