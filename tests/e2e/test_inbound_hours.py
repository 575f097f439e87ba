"""A follow-the-sun territory end to end: a hand-made export with a Berlin and a New York
rep, routed at two as-of times (the morning's hourly run, an arrivals pass in the
evening, as inbound leads arrive), sends each new lead to the rep who is working then."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from switchboard import runs
from tests.e2e.conftest import q

# Monday 2026-11-23: 09:00 UTC is 10:00 in Berlin and 04:00 in New York; 19:00 UTC is
# 20:00 in Berlin and 14:00 in New York.
MORNING = datetime(2026, 11, 23, 9, 0)
EVENING = datetime(2026, 11, 23, 19, 0)

EXPORT = {
    # Berlin carries more (capacity 10 against 100): by workload alone New York would win.
    "reps.csv": "rep_id,name,email,role,capacity,timezone,working_hours\n"
    "R-BER,Ana Silva,ana@example.com,AE,10,Europe/Berlin,Mon-Fri 09:00-17:30\n"
    "R-NYC,Ned Park,ned@example.com,AE,100,America/New_York,Mon-Fri 09:00-17:30\n",
    "hr.csv": "email,status\nana@example.com,active\nned@example.com,active\n",
    "accounts.csv": "account_id,name,created_at,country,industry,owner_id\n"
    "A1,Acme,2024-01-05,DE,Retail,R-BER\nA2,Beta,2024-01-06,US,Retail,R-NYC\n",
    "territories.csv": "territory_id,name,priority,industries\n"
    "T-SUN,Follow the sun,1,Quantum Computing\n",
    "territory_members.csv": "territory_id,rep_id\nT-SUN,R-BER\nT-SUN,R-NYC\n",
}
LEADS = "lead_id,email,created_at,company,industry\n"
MORNING_LEAD = "L-1,kim@qubit-one.example,2026-11-23T08:30:00,Qubit One,Quantum Computing\n"
EVENING_LEAD = "L-2,lee@qubit-two.example,2026-11-23T18:30:00,Qubit Two,Quantum Computing\n"


def _export(folder: Path, leads: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**EXPORT, "leads.csv": LEADS + leads}.items():
        (folder / name).write_text(text)
    return folder


def test_a_follow_the_sun_territory_routes_each_lead_to_whoever_is_working(tmp_path: Path) -> None:
    warehouse, outbox = tmp_path / "w.duckdb", tmp_path / "outbox"
    morning = runs.hourly(
        snapshot=str(_export(tmp_path / "morning", MORNING_LEAD)),
        warehouse=str(warehouse),
        outbox=str(outbox),
        as_of=MORNING.isoformat(),
    )
    evening = runs.arrivals(
        snapshot=str(_export(tmp_path / "evening", MORNING_LEAD + EVENING_LEAD)),
        warehouse=str(warehouse),
        outbox=str(outbox),
        as_of=EVENING.isoformat(),
        say=lambda line: None,
    )
    assert (morning.status, evening.status) == ("published", "published")
    decided = q(
        warehouse,
        "select run_id, record_id, owner_id, rule, rationale "
        "from routing.decisions where record_type = 'lead' order by decided_at",
    )
    assert decided.select("record_id", "owner_id", "rule").rows() == [
        ("L-1", "R-BER", "territory"),
        ("L-2", "R-NYC", "territory"),
    ]  # the morning lead, owned since, is not decided again in the evening
    assert decided["rationale"][0].endswith(
        "; not working now: Ned Park (starts 09:00 America/New_York)."
    )
    assert decided["rationale"][1].endswith(
        "; not working now: Ana Silva (starts Tue 09:00 Europe/Berlin)."
    )
    # The analysts' mart carries the working hours the engine read.
    assert q(
        warehouse, "select rep_id, timezone, working_hours from marts.dim_reps order by rep_id"
    ).rows() == [
        ("R-BER", "Europe/Berlin", "Mon-Fri 09:00-17:30"),
        ("R-NYC", "America/New_York", "Mon-Fri 09:00-17:30"),
    ]
