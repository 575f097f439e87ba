"""The what-if on the session's routed org, from the command line: `whatif` and `run
territory-change --dry-run` compare the new config and plan with the current ones on the
same export, save whatif/<id>/moves.csv and index.html, and leave the warehouse as it was."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.diff.model import MOVES_SCHEMA
from tests.e2e.conftest import q

pytestmark = pytest.mark.e2e
runner = CliRunner()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_moves(folder: Path) -> list[dict[str, str]]:
    with (folder / "moves.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == list(MOVES_SCHEMA)
        return list(reader)


def test_the_unchanged_config_moves_nothing_and_a_dry_run_is_the_same_whatif(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    before = digest(routed_org)
    out = tmp_path / "whatif"
    result = runner.invoke(
        app,
        [
            "whatif",
            "--snapshot",
            str(org),
            "--warehouse",
            str(routed_org),
            "--whatif-dir",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "0 records would move (0 accounts, 0 leads; 0 to a queue)" in result.output
    # Same export, plan and settings as the hourly run: both sides route on its marts.
    assert "dbt build" not in result.output
    (folder,) = out.iterdir()
    assert re.fullmatch(r"20261123T090000-[0-9a-f]{8}", folder.name)
    assert read_moves(folder) == []
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<p class="empty" id="per-territory">None.</p>' in page
    assert '<p class="empty" id="per-rep">None.</p>' in page
    assert f"every move in {folder / 'moves.csv'}" in result.output

    # A dry run of the export's own plan is that very what-if (as a flow run, here).
    again = runner.invoke(
        app,
        [
            "run",
            "territory-change",
            "--dry-run",
            "--snapshot",
            str(org),
            "--territories",
            str(org / "territories.csv"),
            "--warehouse",
            str(routed_org),
            "--whatif-dir",
            str(out),
        ],
    )
    assert again.exit_code == 0, again.output
    assert f"What-if {folder.name}, nothing published. 0 records would move" in again.output
    assert [path.name for path in out.iterdir()] == [folder.name]
    assert digest(routed_org) == before


def test_a_membership_change_moves_the_accounts_it_leaves_outside_their_owners_territories(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    """REP-0001 leaves NA-West Enterprise (and stays in its two other territories): the
    accounts only that territory gave the rep go to its other members or its overflow
    queue; the named accounts stay."""
    before = digest(routed_org)
    members = tmp_path / "territory_members.csv"
    (
        pl.read_csv(org / "territory_members.csv", infer_schema=False)
        .filter(~((pl.col("territory_id") == "T-NAW-ENT") & (pl.col("rep_id") == "REP-0001")))
        .write_csv(members)
    )
    out = tmp_path / "whatif"
    result = runner.invoke(
        app,
        [
            "run",
            "territory-change",
            "--dry-run",
            "--snapshot",
            str(org),
            "--territories",
            str(org / "territories.csv"),
            "--members",
            str(members),
            "--warehouse",
            str(routed_org),
            "--whatif-dir",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    moves = read_moves(folder)

    left_outside = set(
        q(
            routed_org,
            """
        with others as (
            select territory_id from marts.dim_territory_members
            where rep_id = 'REP-0001' and territory_id <> 'T-NAW-ENT'
        ),
        named as (select account_id from marts.dim_named_accounts)
        select accounts.account_id
        from marts.dim_accounts as accounts
        inner join marts.fct_territory_matches as matches
            on matches.record_type = 'account' and matches.record_id = accounts.account_id
        where accounts.owner_id = 'REP-0001'
          and accounts.account_id not in (select account_id from named)
          and coalesce(accounts.ultimate_parent_account_id, '')
              not in (select account_id from named)
          and accounts.account_id not in (select account_id from marts.fct_open_opportunities
                                          where owner_id = 'REP-0001')
        group by accounts.account_id
        having bool_or(matches.territory_id = 'T-NAW-ENT')
           and not bool_or(matches.territory_id in (select territory_id from others))
    """,
        )["account_id"]
    )
    assert len(left_outside) >= 3
    taken = {
        m["record_id"]
        for m in moves
        if m["from_owner_id"] == "REP-0001" and m["from_rule"] == "kept"
    }
    assert taken == left_outside
    assert all(
        m["record_type"] == "account"
        and m["to_rule"] in ("territory", "overflow_queue")
        and m["to_owner_id"] != "REP-0001"
        for m in moves
        if m["record_id"] in taken
    )
    # Nothing else in the book moves: every move lands in the territory that changed.
    assert {m["to_territory_id"] for m in moves} == {"T-NAW-ENT"}

    page = (folder / "index.html").read_text(encoding="utf-8")
    territories = page.split('<table id="per-territory">', 1)[1].split("</table>", 1)[0]
    reps = page.split('<table id="per-rep">', 1)[1].split("</table>", 1)[0]
    naw = re.search(r"<tr><td>T-NAW-ENT</td><td>NA-West Enterprise</td>(.*?)</tr>", territories)
    assert naw is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", naw.group(1))
    # records in, out, within, members before, after, …
    assert int(cells[0]) + int(cells[2]) == len(moves) and cells[3:5] == ["2", "1"]
    rep = re.search(r"<tr><td>REP-0001</td><td>[^<]+</td><td>[^<]*</td>(.*?)</tr>", reps)
    assert rep is not None
    records_in, records_out, load_before, load_after, _ = re.findall(
        r"<td[^>]*>([^<]*)</td>", rep.group(1)
    )
    assert (int(records_in), int(records_out)) == (
        0,
        sum(m["from_owner_id"] == "REP-0001" for m in moves),
    )
    assert float(load_after) < float(load_before)
    assert "T-NAW-ENT" in result.output  # among the territories most affected
    assert digest(routed_org) == before
