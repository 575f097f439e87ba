"""dbt builds that fail, and a build of a generated org: a failing data test names its node,
a bad as-of fails compilation, the as-of goes to dbt in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from switchboard import dbt, reference, warehouse

from .conftest import DAY_1, ORG_DAY_1, account, read_marts, run_build, write_raw

pytestmark = pytest.mark.dbt  # builds the dbt project: not in `make test-fast`


def test_a_failing_data_test_raises_with_the_node_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.duckdb"
    duplicated = [account("A-1", "One"), account("A-1", "One again")]
    write_raw(path, {**ORG_DAY_1, "accounts": duplicated})
    with pytest.raises(dbt.DbtBuildFailed) as failure:
        run_build(path, DAY_1, select="stg_crm__accounts")
    message = str(failure.value)
    first_line = message.splitlines()[0]
    assert first_line.startswith("dbt build failed: 1 of ")
    assert "unique_stg_crm__accounts_account_id" in first_line
    assert [node.name for node in failure.value.failures] == ["unique_stg_crm__accounts_account_id"]
    assert failure.value.failures[0].status == "fail"


def test_a_bad_as_of_fails_compilation(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    write_raw(path, {})
    with pytest.raises(dbt.DbtBuildFailed, match="as_of"):
        dbt._invoke(
            ["build"],
            path,
            ["--vars", '{"as_of": "yesterday\'s"}', "--select", "int_reps_joined_to_hr"],
            tmp_path / "target",
            tmp_path / "logs",
        )


def test_as_of_is_passed_in_utc() -> None:
    aware = datetime(2026, 3, 10, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert dbt.as_of_var(aware) == "2026-03-10T12:30:00"
    assert dbt.as_of_var(datetime(2026, 3, 10, 12, 30, tzinfo=UTC)) == "2026-03-10T12:30:00"
    assert dbt.as_of_var(datetime(2026, 3, 10, 12, 30)) == "2026-03-10T12:30:00"


def test_a_generated_org_builds(tmp_path: Path) -> None:
    generate = pytest.importorskip("switchboard.generate")
    ingest = pytest.importorskip("switchboard.ingest")
    summary = generate.generate_org(tmp_path / "org", accounts=200)
    path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(path)
    try:
        reference.load_reference_tables(con)
        ingest.ingest_snapshot(tmp_path / "org", con, "run-1")
        warehouse.ensure_routing_tables(con)
        raw_reps = con.execute("select count(*) from raw.reps").fetchall()[0][0]
        raw_accounts = con.execute("select count(*) from raw.accounts").fetchall()[0][0]
    finally:
        con.close()
    run_build(path, summary.as_of, exclude=dbt.DEVELOPMENT_ONLY)  # unit tests: above
    marts = read_marts(path)
    assert marts["dim_reps"].height == raw_reps
    assert marts["dim_accounts"].height == raw_accounts
    assert marts["dim_accounts"]["country_code"].null_count() == 0
    assert marts["fct_territory_matches"].height > 0
    assert marts["fct_rep_workload"].height == raw_reps
