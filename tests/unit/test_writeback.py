"""Write-back files: Account.csv and Lead.csv in the CRM's bulk-update shape, review.csv
with reasons, routing.yml `queues:` CRM ids per object type and `writeback:` columns."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard import publish, warehouse
from switchboard.alerts import ALERTS
from switchboard.config import ConfigError, RoutingConfig, load_config
from switchboard.engine.schema import DECISIONS

AS_OF = datetime(2026, 11, 23, 9, 0)
LEAD_QUEUE = "00G5g000001AbCd"  # a Salesforce queue: may own leads
HOLDER = "0055g00000HoLdR"  # a Salesforce user holding a queue's accounts
ROUTING_YML = f"""
queues:
  west-overflow: {{lead: {LEAD_QUEUE}, account: {HOLDER}}}
  "pool:{{territory_id}}": {{account: 0055g00000PoOlS}}
  "pool:T-VIP": {{account: 0055g00000VipHd}}
"""


def decisions(*rows: dict[str, object]) -> pl.DataFrame:
    base = {
        "run_id": "r1",
        "decided_at": AS_OF,
        "record_type": "account",
        "record_id": "A1",
        "previous_owner_id": "OLD",
        "owner_id": "REP-1",
        "queue": None,
        "rule": "territory",
        "territory_id": "T1",
        "conflict": False,
        "candidates": [],
        "rationale": "because",
        "rules_version": "v",
        "latency_seconds": 60.0,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=DECISIONS)


def queued(
    record_type: str, record_id: str, queue: str, rule: str = "overflow_queue"
) -> dict[str, object]:
    return {
        "record_type": record_type,
        "record_id": record_id,
        "owner_id": None,
        "queue": queue,
        "rule": rule,
    }


def config(tmp_path: Path, text: str = ROUTING_YML) -> RoutingConfig:
    path = tmp_path / "routing.yml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    publish.ensure_tables(connection)
    yield connection
    connection.close()


def publish_run(
    con: duckdb.DuckDBPyConnection,
    outbox: Path,
    d: pl.DataFrame,
    settings: RoutingConfig,
    run_id: str = "r1",
) -> Path:
    publish.queue_messages(
        con,
        run_id=run_id,
        decisions=d.with_columns(run_id=pl.lit(run_id)),
        alerts=pl.DataFrame(schema=ALERTS),
        queues=settings.queues,
    )
    return publish.write_outbox(
        con,
        run_id=run_id,
        outbox=outbox,
        summary_markdown="",
        writeback_settings=settings.writeback,
    )


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_owner_changes_go_to_one_file_per_object_with_queue_ids_per_object(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    d = decisions(
        {"record_id": "A1"},
        queued("account", "A2", "west-overflow"),
        queued("lead", "L1", "west-overflow"),
        {
            "record_type": "lead",
            "record_id": "L2",
            "previous_owner_id": None,
            "owner_id": "REP-2",
            "rule": "account_owner",
        },
        queued("account", "A3", "pool:T-NAE-MM", "territory_pool"),  # the pattern
        queued("account", "A4", "pool:T-VIP", "territory_pool"),  # exact beats pattern
        queued("lead", "L3", "pool:T-NAE-MM", "territory_pool"),  # no lead id
        queued("account", "A5", "fallback-queue", "fallback_queue"),
        {
            "record_id": "A6",
            "owner_id": "OLD",
            "rule": "manager_review",
            "rationale": "Account has open pipeline (OPP-1), kept for manager review",
        },
        # A lead re-routed for its first-touch SLA is an owner change like any other...
        {
            "record_type": "lead",
            "record_id": "L4",
            "previous_owner_id": "REP-2",
            "owner_id": "REP-3",
            "rule": "sla_reroute",
        },
        # ... and one kept for manager review after its re-routes is for the manager.
        {
            "record_type": "lead",
            "record_id": "L5",
            "previous_owner_id": "REP-2",
            "owner_id": "REP-2",
            "rule": "manager_review",
        },
        # Mapped to the user who already holds it: nothing to write, nothing to review.
        {**queued("account", "A7", "west-overflow"), "previous_owner_id": HOLDER},
    )
    folder = publish_run(con, tmp_path / "outbox", d, config(tmp_path))

    header, accounts = read(folder / "Account.csv")
    assert header == [
        "Id",
        "OwnerId",
        "Previous_Owner__c",
        "Routing_Rule__c",
        "Routing_Rationale__c",
        "Routed_At__c",
    ]
    assert [(r["Id"], r["OwnerId"]) for r in accounts] == [
        ("A1", "REP-1"),
        ("A2", HOLDER),
        ("A3", "0055g00000PoOlS"),
        ("A4", "0055g00000VipHd"),
    ]
    assert accounts[0] == {
        "Id": "A1",
        "OwnerId": "REP-1",
        "Previous_Owner__c": "OLD",
        "Routing_Rule__c": "territory",
        "Routing_Rationale__c": "because",
        "Routed_At__c": "2026-11-23T09:00:00Z",
    }
    header, leads = read(folder / "Lead.csv")
    assert header[:2] == ["Id", "OwnerId"]
    assert [(r["Id"], r["OwnerId"], r["Previous_Owner__c"]) for r in leads] == [
        ("L1", LEAD_QUEUE, "OLD"),
        ("L2", "REP-2", ""),
        ("L4", "REP-3", "REP-2"),
    ]

    header, review = read(folder / "review.csv")
    assert header == [
        "record_type",
        "record_id",
        "current_owner_id",
        "queue",
        "rule",
        "rationale",
        "reason",
    ]
    reasons = {r["record_id"]: r["reason"] for r in review}
    assert reasons == {
        "A5": "no CRM id for queue fallback-queue on accounts; add "
        "queues.fallback-queue.account to routing.yml",
        "L3": "no CRM id for territory pool pool:T-NAE-MM on leads; add "
        "queues.'pool:T-NAE-MM'.lead to routing.yml",
        "A6": "owner kept for manager review (open pipeline): nothing to write back; the "
        "manager hands the account over in the CRM",
        "L5": "owner kept for manager review (not touched within the first-touch SLA): "
        "nothing to write back; the manager reassigns the lead in the CRM",
    }
    a6 = next(r for r in review if r["record_id"] == "A6")
    assert a6["current_owner_id"] == "OLD" and a6["rationale"].startswith("Account has open")

    # The combined file keeps every reassignment, both objects, in Switchboard's names.
    _, combined = read(folder / "reassignments.csv")
    assert sorted(r["record_id"] for r in combined) == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A7",
        "L1",
        "L2",
        "L3",
        "L4",
    ]


def test_republishing_writes_the_same_files_and_a_new_mapping_publishes_the_record_again(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    unmapped = config(tmp_path, "queues: {}\n")
    d = decisions(queued("lead", "L1", "east-overflow"), {"record_id": "A1"})
    folder = publish_run(con, tmp_path / "outbox", d, unmapped)
    written = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert publish_run(con, tmp_path / "outbox", d, unmapped) == folder
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == written
    assert [r["record_id"] for r in read(folder / "review.csv")[1]] == ["L1"]

    # The same decisions in a later run: nothing new anywhere.
    later = publish_run(con, tmp_path / "outbox", d, unmapped, run_id="r2")
    for name in ("Account.csv", "Lead.csv", "review.csv", "reassignments.csv"):
        assert read(later / name)[1] == [], name

    # Once routing.yml maps the queue, deciding the record to it again reaches Lead.csv.
    mapped = config(tmp_path, "queues: {east-overflow: {lead: 00G5g000001EaSt}}\n")
    after = publish_run(con, tmp_path / "outbox", d, mapped, run_id="r3")
    assert [(r["Id"], r["OwnerId"]) for r in read(after / "Lead.csv")[1]] == [
        ("L1", "00G5g000001EaSt")
    ]
    assert read(after / "review.csv")[1] == [] and read(after / "Account.csv")[1] == []


def test_columns_are_renamed_dropped_or_left_out_as_routing_yml_says(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    hubspot = config(
        tmp_path,
        """
writeback:
  id_column: Record ID
  owner_column: hubspot_owner_id
  columns: {routing_queue: queue, routing_territory: territory_id}
queues:
  west-overflow: {account: 31337}
""",
    )
    d = decisions({"record_id": "A1"}, queued("account", "A2", "west-overflow"))
    folder = publish_run(con, tmp_path / "hub", d, hubspot)
    header, rows = read(folder / "Account.csv")
    assert header == ["Record ID", "hubspot_owner_id", "routing_queue", "routing_territory"]
    assert rows == [
        {
            "Record ID": "A1",
            "hubspot_owner_id": "REP-1",
            "routing_queue": "",
            "routing_territory": "T1",
        },
        {
            "Record ID": "A2",
            "hubspot_owner_id": "31337",
            "routing_queue": "west-overflow",
            "routing_territory": "T1",
        },
    ]
    bare = config(tmp_path, "writeback: {columns: {}}\n")
    folder = publish_run(con, tmp_path / "bare", decisions({"record_id": "A9"}), bare, "r9")
    assert (folder / "Account.csv").read_text() == "Id,OwnerId\nA9,REP-1\n"
    assert (folder / "Lead.csv").read_text() == "Id,OwnerId\n"


def test_write_back_cells_are_neutralised(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    d = decisions(
        {"record_id": "=1+1", "previous_owner_id": "@SUM(1)", "rationale": "+cmd|' /C calc'!A0"},
        {**queued("lead", "-L1", "q"), "rationale": "=HYPERLINK(1)"},
    )
    folder = publish_run(con, tmp_path, d, config(tmp_path, "queues: {}\n"))
    (account,) = read(folder / "Account.csv")[1]
    assert account["Id"] == "'=1+1" and account["Previous_Owner__c"] == "'@SUM(1)"
    assert account["Routing_Rationale__c"].startswith("'+")
    (lead,) = read(folder / "review.csv")[1]
    assert lead["record_id"] == "'-L1" and lead["rationale"] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------- routing.yml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "queues:\n  west-overflow: {contact: 00G5g000001AbCd}\n",
            "line 2: unknown key `contact` under `queues.west-overflow` (the keys there are "
            "account, lead)",
        ),
        (
            "queues:\n  west-overflow:\n    lead: ''\n",
            "line 3: `queues.west-overflow.lead`: is empty: give the CRM id the queue's leads get "
            "as their owner",
        ),
        ("queues:\n  west-overflow: {lead: }\n", "`queues.west-overflow.lead`: is empty"),
        (
            "queues:\n  west-overflow: {account: 00G5g000001AbCd}\n",
            "`queues.west-overflow.account`: `00G5g000001AbCd` is a Salesforce queue, and accounts "
            "cannot be owned by a queue: give the user (005…) who holds the queue's accounts",
        ),
        (
            "queues:\n  west-overflow: {lead: 0015g000001AbCd}\n",
            "`0015g000001AbCd` is a Salesforce Account id; an owner is a user (005…) or queue "
            "(00G…)",
        ),
        (
            "queues:\n  west-overflow: {lead: 00G5g000001AbCdAAA}\n",
            "`00G5g000001AbCdAAA` is not a valid 18-character Salesforce id: its last three "
            "characters do not match the first 15 (was its case changed?)",
        ),
        (
            "queues:\n  fallback: fallback-queue\n  west-overflow: 00G5g000001AbCd\n",
            "line 3: `queues.west-overflow`: is `00G5g000001AbCd`, not CRM ids by object type such "
            "as `{lead: <id>, account: <id>}`",
        ),
        (
            "queues:\n  overflow: {lead: 00G5g000001AbCd}\n",
            "line 2: `queues.overflow`: is how the engine names its overflow queues",
        ),
        (
            "queues:\n  'pool:{territory}': {account: '12'}\n",
            "queue name pattern `pool:{territory}`: a pattern holds {territory_id} once",
        ),
        (
            "writeback:\n  columns: {Owner__c: owner}\n",
            "line 2: `writeback.columns.Owner__c` is `owner`",
        ),
        (
            "writeback:\n  columns: {ownerid: rule}\n",
            "`writeback.columns`: `OwnerId`, `ownerid` would name two columns",
        ),
        (
            "writeback:\n  colums: {}\n",
            "line 2: unknown key `colums` under `writeback`: did you mean `columns`?",
        ),
    ],
)
def test_a_bad_queue_or_writeback_setting_is_one_clear_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config(tmp_path, text)
    message = str(caught.value)
    assert expected in message, message
    assert "\n" not in message and "[type=" not in message


def test_ids_that_fit_their_object_load(tmp_path: Path) -> None:
    settings = config(
        tmp_path,
        """
queues:
  west-overflow: {lead: 00G5g000001AbCd, account: 0055g00000HoLdRAAV}
  hubspot-pool: {lead: 12345678, account: " 87654321 "}
""",
    )
    ids = settings.queues.crm_ids
    # HoLdR: bits 0, 2 and 4 upper case -> 21 -> V
    assert ids["west-overflow"].account == "0055g00000HoLdRAAV"
    assert (ids["hubspot-pool"].lead, ids["hubspot-pool"].account) == ("12345678", "87654321")
    assert settings.queues.fallback == "fallback-queue"  # the names keep their defaults


def test_the_shipped_routing_yml_writes_back_with_the_audit_columns() -> None:
    shipped = load_config()
    assert shipped.writeback.id_column == "Id" and shipped.writeback.owner_column == "OwnerId"
    assert shipped.writeback.columns == RoutingConfig().writeback.columns


def test_the_documented_routing_yml_examples_load(tmp_path: Path) -> None:
    """docs/OPERATIONS.md's write-back examples are settings the loader takes."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md").read_text()
    section = docs.split("## Writing owners back to the CRM")[1].split("\n## ")[0]
    examples = section.split("```yaml\n")[1:]
    assert len(examples) == 3
    for block in examples:
        settings = config(tmp_path, block.split("```")[0])
        assert settings.queues.crm_ids or settings.writeback.columns
