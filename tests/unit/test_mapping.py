"""Header mappings: validation, presets, value formats and owners given by name or e-mail."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard.config import ConfigError, load_config
from switchboard.contracts import load_contracts
from switchboard.ingest import check_snapshot, ingest_snapshot
from switchboard.mapping import (
    REP_MATCH_EXPECTATION,
    MappingError,
    load_mapping,
    parse_mapping,
    presets,
)
from switchboard.warehouse import read_table
from tests.snapshots import make_snapshot

CONTRACTS = load_contracts()


def test_presets_ship_and_validate() -> None:
    assert {"hubspot", "salesforce-report"} <= set(presets())
    for name in presets():
        assert load_mapping(name).entities


def test_a_header_alone_or_a_list_of_headers() -> None:
    mapping = parse_mapping(
        {"accounts": {"account_id": "Record ID", "name": ["Company name", "Name"]}}, "m.yml"
    )
    assert mapping.columns("accounts")["account_id"].header == ("Record ID",)
    assert mapping.columns("accounts")["name"].header == ("Company name", "Name")


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"acounts": {"name": "Name"}}, ["m.yml", "`acounts`", "not an entity"]),
        ({"accounts": {"ownr": "Owner"}}, ["m.yml", "`accounts.ownr`", "no column ownr"]),
        ({"accounts": {"name": {"header": "N", "format": "%d"}}}, ["`accounts.name`", "format"]),
        ({"accounts": {"name": {"header": "N", "colour": 1}}}, ["`accounts.name.colour`"]),
        ({"accounts": {"employees": {"header": "E", "decimal": ";"}}}, ["`accounts.employees`"]),
        (
            {"opportunities": {"is_closed": {"header": "C", "true_values": [True]}}},
            ["`opportunities.is_closed.true_values`", "quote"],
        ),
        ({"accounts": {"tier": {"header": "T", "match_rep": True}}}, ["match_rep"]),
        (["accounts"], ["m.yml", "top level"]),
    ],
)
def test_a_bad_mapping_is_one_line_naming_the_file_and_key(data: object, names: list[str]) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "m.yml")
    message = str(caught.value)
    assert "\n" not in message
    for name in names:
        assert name in message


def test_routing_yml_names_a_mapping_file_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "mine.yml").write_text("accounts:\n  account_id: Record ID\n")
    (tmp_path / "routing.yml").write_text("mapping: mine.yml\n")
    config = load_config(tmp_path / "routing.yml")
    assert config.mapping is not None
    assert config.mapping.columns("accounts")["account_id"].header == ("Record ID",)
    # The mapping is part of the rules version: a changed mapping is a changed run.
    before = config.rules_version
    (tmp_path / "mine.yml").write_text("accounts:\n  account_id: Company ID\n")
    assert load_config(tmp_path / "routing.yml").rules_version != before
    assert load_config(None).mapping is None


def test_a_bad_mapping_in_routing_yml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "mine.yml").write_text("accounts:\n  owner: Owner\n")
    (tmp_path / "routing.yml").write_text("mapping: mine.yml\n")
    with pytest.raises(ConfigError, match=r"routing.yml.*`accounts.owner`"):
        load_config(tmp_path / "routing.yml")
    (tmp_path / "routing.yml").write_text("mapping: nowhere.yml\n")
    with pytest.raises(ConfigError, match=r"cannot read mapping .*nowhere\.yml"):
        load_config(tmp_path / "routing.yml")
    (tmp_path / "routing.yml").write_text("mapping: {leads: {lead_idd: Id}}\n")
    with pytest.raises(ConfigError, match=r"`leads\.lead_idd`"):
        load_config(tmp_path / "routing.yml")


def _accounts(
    tmp_path: Path, accounts: str, mapping: dict[str, object], **files: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ingest `accounts` (plus CLEAN) with a mapping; (raw.accounts, raw.quarantine)."""
    folder = make_snapshot(tmp_path / "snap", {"accounts.csv": accounts, **files})
    con = duckdb.connect()
    ingest_snapshot(folder, con, "r1", mapping=parse_mapping(mapping, "m.yml"))
    return (
        read_table(con, "raw.accounts").collect().sort("_row_number"),
        read_table(con, "raw.quarantine").collect(),
    )


US_DATES = {
    "accounts": {
        "account_id": "Record ID",
        "name": "Company name",
        "created_at": {"header": "Create Date", "format": ["%m/%d/%Y %H:%M", "%m/%d/%Y"]},
    }
}


def test_us_dates_load_with_a_format_and_iso_still_reads(tmp_path: Path) -> None:
    csv = (
        "Record ID,Company name,Create Date\nA1,Acme,12/2/2024\nA2,Beta,1/15/2024 14:05\n"
        "A3,Gamma,2024-03-04T10:00:00Z\n"
    )
    accounts, quarantine = _accounts(tmp_path, csv, US_DATES)
    assert accounts["created_at"].to_list() == [
        datetime(2024, 12, 2),
        datetime(2024, 1, 15, 14, 5),
        datetime(2024, 3, 4, 10),
    ]
    assert quarantine.is_empty()


def test_a_date_no_format_reads_is_quarantined_with_its_value(tmp_path: Path) -> None:
    csv = "Record ID,Company name,Create Date\nA1,Acme,12/2/2024\nA2,Beta,31/12/2024\n"
    accounts, quarantine = _accounts(tmp_path, csv, US_DATES)
    assert accounts["account_id"].to_list() == ["A1"]
    (reason,) = quarantine["reason"].to_list()
    assert "'31/12/2024'" in reason


def test_without_a_mapping_us_dates_quarantine_every_row(tmp_path: Path) -> None:
    csv = "account_id,name,created_at\nA1,Acme,12/2/2024\n"
    report = check_snapshot(make_snapshot(tmp_path / "snap", {"accounts.csv": csv}))
    assert report["accounts"].loaded_rows == 0


def test_decimal_commas_and_thousands(tmp_path: Path) -> None:
    csv = (
        "account_id,name,created_at,Revenue,Staff\n"
        'A1,Acme,2024-01-05,"1.234.567,5",1.200\nA2,Beta,2024-01-06,"12,25", 7\n'
    )
    mapping = {
        "accounts": {
            "annual_revenue": {"header": "Revenue", "decimal": ","},
            "employees": {"header": "Staff", "thousands": ".", "decimal": ","},
        }
    }
    accounts, quarantine = _accounts(tmp_path, csv, mapping)
    assert accounts["annual_revenue"].to_list() == [1234567.5, 12.25]
    assert accounts["employees"].to_list() == [1200, 7]
    assert quarantine.is_empty()


def test_boolean_spellings(tmp_path: Path) -> None:
    reps = (
        "rep_id,name,email,role,Active\nR1,Ada,ada@example.com,AE,Y\n"
        "R2,Bo,bo@example.com,AE,n\nR3,Cy,cy@example.com,AE,Yes\n"
    )
    folder = make_snapshot(tmp_path / "snap", {"reps.csv": reps})
    mapping = parse_mapping(
        {"reps": {"is_active": {"header": "Active", "true_values": ["Y"], "false_values": ["N"]}}},
        "m.yml",
    )
    con = duckdb.connect()
    ingest_snapshot(folder, con, "r1", mapping=mapping)
    active = read_table(con, "raw.reps").collect().sort("rep_id")["is_active"].to_list()
    assert active == [True, False, True]


def test_a_date_column_reads_a_date_format(tmp_path: Path) -> None:
    hr = "email,status,Since\nada@example.com,active,02/03/2024\n"
    folder = make_snapshot(tmp_path / "snap", {"hr.csv": hr})
    mapping = parse_mapping(
        {"hr": {"status_start": {"header": "Since", "format": "%d/%m/%Y"}}}, "m.yml"
    )
    con = duckdb.connect()
    ingest_snapshot(folder, con, "r1", mapping=mapping)
    assert read_table(con, "raw.hr").collect()["status_start"].to_list() == [date(2024, 3, 2)]


def test_mapped_headers_win_over_aliases_and_the_first_present_is_read(tmp_path: Path) -> None:
    # `Id` is an alias of account_id; the mapping reads `Record ID`, and `Id` is ignored.
    csv = "Id,Record ID,name,created_at\nX1,A1,Acme,2024-01-05\n"
    mapping = {"accounts": {"account_id": ["Company ID", "Record ID", "Id"]}}
    accounts, _ = _accounts(tmp_path, csv, mapping)
    assert accounts["account_id"].to_list() == ["A1"]


OWNERS = {"accounts": {"owner_id": {"header": "Company owner", "match_rep": True}}}
REPS = (
    "rep_id,name,email,role\nR1,Ana Ruiz,ana@corp.com,AE\nR2,Bo Lee,bo@corp.com,AE\n"
    "R3,Bo Lee,bo.lee@corp.com,AE\n"
)


def test_owners_by_name_email_or_id_become_rep_ids(tmp_path: Path) -> None:
    csv = (
        "account_id,name,created_at,Company owner\nA1,Acme,2024-01-05,Ana Ruiz\n"
        "A2,Beta,2024-01-05,  ANA@CORP.COM \nA3,Gamma,2024-01-05,R2\nA4,Delta,2024-01-05,\n"
        "A5,Eps,2024-01-05,bo.lee@corp.com\n"
    )
    accounts, quarantine = _accounts(
        tmp_path,
        csv,
        OWNERS,
        **{"reps.csv": REPS, "territory_members.csv": "territory_id,rep_id\nT1,R1\n"},
    )
    assert accounts["owner_id"].to_list() == ["R1", "R1", "R2", None, "R3"]
    assert quarantine.filter(pl.col("entity") == "accounts").is_empty()


def test_an_owner_matching_no_rep_or_two_is_quarantined_naming_the_value(tmp_path: Path) -> None:
    csv = (
        "account_id,name,created_at,Company owner\nA1,Acme,2024-01-05,Ana Ruiz\n"
        "A2,Beta,2024-01-05,Zed Nobody\nA3,Gamma,2024-01-05,Bo Lee\n"
    )
    accounts, quarantine = _accounts(tmp_path, csv, OWNERS, **{"reps.csv": REPS})
    assert accounts["account_id"].to_list() == ["A1"]
    rows = quarantine.filter(pl.col("entity") == "accounts").sort("row_number")
    assert rows["expectation"].to_list() == [REP_MATCH_EXPECTATION] * 2
    assert rows["column_name"].to_list() == ["owner_id", "owner_id"]
    assert rows["value"].to_list() == ["Zed Nobody", "Bo Lee"]
    assert "'Zed Nobody' matches no rep" in rows["reason"][0]
    assert set(rows["action"]) == {"row_quarantined"}


def test_hubspot_preset_reads_a_hubspot_company_export(tmp_path: Path) -> None:
    csv = (
        "Record ID,Company name,Company Domain Name,Create Date,Country/Region,"
        "State/Region,Number of Employees,Annual Revenue,Company owner,Parent Company\n"
        'A1,Acme,acme.com,12/02/2024 09:30,United States,California,"1,200",'
        '"5,000,000",ana@corp.com,\n'
    )
    folder = make_snapshot(tmp_path / "snap", {"accounts.csv": csv, "reps.csv": REPS})
    con = duckdb.connect()
    ingest_snapshot(folder, con, "r1", mapping=load_mapping("hubspot"))
    row = read_table(con, "raw.accounts").collect().row(0, named=True)
    assert (row["account_id"], row["name"], row["domain"], row["state"]) == (
        "A1",
        "Acme",
        "acme.com",
        "California",
    )
    assert row["created_at"] == datetime(2024, 12, 2, 9, 30)
    assert (row["employees"], row["annual_revenue"], row["owner_id"]) == (1200, 5e6, "R1")


def test_a_file_without_the_mapped_headers_reads_through_the_aliases(tmp_path: Path) -> None:
    # The hubspot preset maps leads, but this leads.csv has Switchboard's own columns.
    leads = "lead_id,email,created_at,owner_id\nL1,a@b.com,2024-01-05T10:00:00,R1\n"
    folder = make_snapshot(tmp_path / "snap", {"leads.csv": leads, "reps.csv": REPS})
    con = duckdb.connect()
    ingest_snapshot(folder, con, "r1", mapping=load_mapping("hubspot"))
    row = read_table(con, "raw.leads").collect().row(0, named=True)
    assert (row["lead_id"], row["owner_id"]) == ("L1", "R1")


def test_check_stops_in_one_line_on_a_bad_mapping(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from switchboard import cli
    from tests.unit.cli.test_input_errors import SALESFORCE, one_line_error

    (tmp_path / "mapping.yml").write_text("accounts:\n  owner: Company owner\n")
    (tmp_path / "routing.yml").write_text("mapping: mapping.yml\n")
    result = CliRunner().invoke(
        cli.app,
        [
            "check",
            "--snapshot",
            str(SALESFORCE),
            "--config",
            str(tmp_path / "routing.yml"),
            "--warehouse",
            str(tmp_path / "c.duckdb"),
        ],
    )
    line = one_line_error(result)
    assert str(tmp_path / "mapping.yml") in line and "`accounts.owner`" in line
    assert not (tmp_path / "c.duckdb").exists()


def test_check_reads_a_hubspot_export_with_the_mapping_option(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from switchboard import cli

    csv = (
        "Record ID,Company name,Create Date,Company owner\nA1,Acme,12/2/2024,Ana Ruiz\n"
        "A2,Beta,12/3/2024,Zed Nobody\n"
    )
    folder = make_snapshot(tmp_path / "snap", {"accounts.csv": csv, "reps.csv": REPS})
    args = ["check", "--snapshot", str(folder), "--warehouse", str(tmp_path / "c.duckdb")]
    without = CliRunner().invoke(cli.app, args)
    assert without.exit_code == cli.EXIT_INPUT and "has no column account_id" in without.stderr
    result = CliRunner().invoke(cli.app, [*args, "--mapping", "hubspot"])
    assert result.exit_code == 0, result.output
    assert "1 rows would be quarantined" in " ".join(result.output.split())
    con = duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True)
    assert con.sql("select account_id, owner_id from raw.accounts").fetchall() == [("A1", "R1")]
    ((reason,),) = con.sql("select reason from raw.quarantine where entity = 'accounts'").fetchall()
    assert reason.startswith("owner_id 'Zed Nobody' matches no rep")


def test_a_bad_mapping_option_is_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from switchboard import cli
    from tests.unit.cli.test_input_errors import SALESFORCE, one_line_error

    result = CliRunner().invoke(
        cli.app,
        [
            "check",
            "--snapshot",
            str(SALESFORCE),
            "--mapping",
            "hubspt",
            "--warehouse",
            str(tmp_path / "c.duckdb"),
        ],
    )
    line = one_line_error(result)
    assert line.startswith("error: --mapping: `mapping`: cannot read mapping")
    assert "hubspot" in line  # the presets are listed


def test_an_arrivals_pass_reads_the_mapping_and_names_owners_from_raw_reps(tmp_path: Path) -> None:
    from switchboard import publish
    from switchboard.ingest import ingest_arrivals

    head = "Record ID,Company name,Create Date,Company owner\n"
    book = head + "A1,Acme,1/5/2024 10:00,ana@corp.com\n"
    folder = make_snapshot(tmp_path / "snap", {"accounts.csv": book, "reps.csv": REPS})
    hubspot = load_mapping("hubspot")
    con = duckdb.connect()
    publish.ensure_tables(con)
    ingest_snapshot(folder, con, "hourly-1", mapping=hubspot)
    make_snapshot(
        folder,
        {
            "accounts.csv": book + "A2,Beta,3/1/2024 12:30,Ana Ruiz\n"
            "A3,Gamma,3/1/2024 12:31,Nobody\n",
            "reps.csv": REPS,
        },
    )
    report = ingest_arrivals(folder, con, "arrivals-1", datetime(2024, 3, 1, 12), mapping=hubspot)
    assert (report["accounts"].input_rows, report["accounts"].loaded_rows) == (2, 1)
    rows = con.sql(
        "select account_id, created_at, owner_id from raw.accounts order by all"
    ).fetchall()
    assert rows == [
        ("A1", datetime(2024, 1, 5, 10), "R1"),
        ("A2", datetime(2024, 3, 1, 12, 30), "R1"),
    ]


def test_a_missing_required_column_names_its_mapped_headers(tmp_path: Path) -> None:
    from switchboard.errors import SnapshotError

    folder = make_snapshot(tmp_path / "snap", {"accounts.csv": "Company name\nAcme\n"})
    with pytest.raises(
        SnapshotError,
        match=r"no column account_id \(mapped from Record ID, "
        r"Company ID, or an alias: Id",
    ):
        check_snapshot(folder, mapping=load_mapping("hubspot"))
