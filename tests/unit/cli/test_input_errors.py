"""Input mistakes stop a command in one line, with exit 1 and no traceback, before Prefect,
dbt or Great Expectations start: routing.yml errors name the file, the line and the key
meant; `--rep` must be in the export; `check` fails on a file nothing of which loads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from switchboard import cli
from switchboard.cli import running
from switchboard.config import ConfigError, load_config
from switchboard.errors import InputError
from switchboard.preflight import check_leavers
from tests.paths import FIXTURES, ROOT

SALESFORCE = FIXTURES / "salesforce_snapshot"  # rep ids as Salesforce User Ids, header `Id`
BROKEN = FIXTURES / "broken_snapshot"
runner = CliRunner()


def one_line_error(result: Any, code: int = cli.EXIT_INPUT) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- routing.yml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "workload:\n  default_capacity: 200\n  high_wter: 3\n",
            "line 3: unknown key `high_wter` under `workload`: did you mean `high_water`?",
        ),
        ("guard:\n  min_row_drop: 3\n", "line 1: unknown key `guard`: did you mean `guards`?"),
        (
            "sinks:\n  webhook:\n    urll: x\n",
            "line 3: unknown key `urll` under `sinks.webhook`: did you mean `url`?",
        ),
        (
            "rules:\n  - {name: territory}\n  - {name: teritory}\n",
            "line 3: `rules[1].name` is `teritory`: did you mean `territory`?",
        ),
        (
            "workload:\n  default_capacity: -5\n",
            "line 2: `workload.default_capacity`: input should be greater than 0, not `-5`",
        ),
        (
            "workload:\n  high_water: 90\n  release: 95\n",
            "line 3: `workload.release`: must not exceed high_water (95 > 90)",
        ),
        (
            "guards:\n  max_row_drop: {acounts: 0.1}\n",
            "line 2: `guards.max_row_drop`: no entity `acounts`: did you mean `accounts`?",
        ),
    ],
)
def test_a_config_error_names_the_file_the_line_and_the_key_meant(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"config {path}: ")
    assert expected in message
    assert "\n" not in message and "pydantic" not in message and "[type=" not in message


def test_an_unknown_key_without_a_close_match_lists_the_keys(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"line 2: unknown key `zzz` under `workload` "
        r"\(the keys there are weights, default_capacity, ",
    ):
        load_config(config_file(tmp_path, "workload:\n  zzz: 1\n"))


def test_a_yaml_syntax_error_names_the_file_and_line_not_a_unicode_string(tmp_path: Path) -> None:
    path = config_file(tmp_path, "workload:\n  high_water: [3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"config {path}: line 3: not valid YAML: ")
    assert "starts on line 2" in message
    assert "<unicode string>" not in message and "\n" not in message


def test_the_shipped_routing_yml_loads() -> None:
    assert load_config().guards.min_invalid_reps == 3


# The commands that take --config, each with a routing.yml that has a misspelt key. They
# run in a fresh interpreter, which then reports whether Prefect, dbt or Great
# Expectations were imported: the test process may have imported them already.
BAD_CONFIG_COMMANDS = [
    ["run", "hourly", "--snapshot", str(SALESFORCE)],
    ["run", "arrivals", "--snapshot", str(SALESFORCE)],
    ["run", "departure", "--snapshot", str(SALESFORCE), "--rep", "0055g00000AdaAAA"],
    [
        "run",
        "territory-change",
        "--snapshot",
        str(SALESFORCE),
        "--territories",
        str(SALESFORCE / "territories.csv"),
    ],
    ["whatif", "--snapshot", str(SALESFORCE)],
    ["ingest", "--snapshot", str(SALESFORCE)],
    ["report", "routing"],
    ["publish"],
]

_PROBE = """
import json, sys
from typer.testing import CliRunner
from switchboard.cli import app
runs = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    runs.append({"args": args, "code": result.exit_code, "stderr": result.stderr,
                 "output": result.output})
heavy = sorted(m for m in ("prefect", "dbt", "great_expectations") if m in sys.modules)
print(json.dumps({"runs": runs, "heavy": heavy}))
"""


def _probe(commands: list[list[str]]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(commands)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_bad_config_stops_every_command_before_prefect_dbt_or_gx(tmp_path: Path) -> None:
    path = config_file(tmp_path, "workload:\n  high_wter: 3\n")
    warehouse = str(tmp_path / "w.duckdb")
    commands = [
        [*args, "--config", str(path), "--warehouse", warehouse] for args in BAD_CONFIG_COMMANDS
    ]
    found = _probe(commands)
    for run in found["runs"]:
        assert run["code"] == cli.EXIT_INPUT, run
        assert "Traceback" not in run["output"] + run["stderr"], run
        (line,) = run["stderr"].strip().splitlines()
        assert line == (
            f"error: config {path}: line 2: unknown key `high_wter` under "
            "`workload`: did you mean `high_water`?"
        ), run["args"]
    assert found["heavy"] == []
    assert not (tmp_path / "w.duckdb").exists()


# ---------------------------------------------------------------- --rep


def test_a_leaver_the_export_lists_passes(tmp_path: Path) -> None:
    check_leavers(SALESFORCE, ["0055g00000AdaAAA"])  # header `Id`, a Salesforce alias
    snap = tmp_path / "snap"
    snap.mkdir()
    pl.read_csv(BROKEN / "reps.csv").write_parquet(snap / "reps.parquet")
    check_leavers(snap, [" R2 "])
    with pytest.raises(InputError, match=r"--rep R9 is not in reps\.parquet"):
        check_leavers(snap, ["R9"])


def test_an_unknown_rep_names_the_close_matches() -> None:
    with pytest.raises(InputError) as caught:
        check_leavers(SALESFORCE, ["0055g00000adaAAA"])
    assert str(caught.value) == (
        f"--rep 0055g00000adaAAA is not in reps.csv of snapshot {SALESFORCE}; "
        "did you mean 0055g00000AdaAAA or 0055g00000GraceAA?"
    )
    with pytest.raises(
        InputError,
        match=r"--rep REP-NOPE is not in reps\.csv .*; it lists "
        r"2 reps, such as 0055g00000AdaAAA",
    ):
        check_leavers(SALESFORCE, ["REP-NOPE"])


def test_a_reps_file_that_cannot_be_read_simply_is_left_to_ingest(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    snap.mkdir()
    check_leavers(snap, ["R1"])  # no reps file: ingest names it
    (snap / "reps.csv").write_text("name,email\nAda,ada@example.com\n")
    check_leavers(snap, ["R1"])  # no rep_id column: ingest names it


def test_a_mapped_reps_file_is_read_through_its_mapping(tmp_path: Path) -> None:
    """A reps export whose rep_id header only a mapping names is still checked."""
    from switchboard.mapping import parse_mapping

    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "reps.csv").write_text("Owner Key,name\nU-100,Ada\nU-200,Grace\n")
    mapping = parse_mapping({"reps": {"rep_id": ["Owner Key"]}}, "mine.yml")
    check_leavers(snap, ["U-999"])  # without the mapping there is no rep_id column to read
    check_leavers(snap, ["U-100"], mapping=mapping)
    with pytest.raises(InputError, match=r"--rep U-999 is not in reps\.csv .*it lists 2 reps"):
        check_leavers(snap, ["U-999"], mapping=mapping)


def test_run_departure_with_an_unknown_rep_exits_non_zero_before_anything_starts(
    tmp_path: Path,
) -> None:
    found = _probe(
        [
            [
                "run",
                "departure",
                "--snapshot",
                str(SALESFORCE),
                "--rep",
                "REP-NOPE",
                "--warehouse",
                str(tmp_path / "w.duckdb"),
            ]
        ]
    )
    (run,) = found["runs"]
    assert run["code"] == cli.EXIT_INPUT, run
    assert run["stderr"].startswith("error: --rep REP-NOPE is not in reps.csv")
    assert len(run["stderr"].strip().splitlines()) == 1
    assert found["heavy"] == []
    assert not (tmp_path / "w.duckdb").exists()


# ---------------------------------------------------------------- other options


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (
            [
                "run",
                "departure",
                "--rep",
                "0055g00000AdaAAA",
                "--effective",
                "2026-11-23",
                "--as-of",
                "yesterday",
            ],
            "error: --as-of 'yesterday' is not a date or time",
        ),
        (
            ["run", "hourly", "--snapshot", "/nonexistent/snapshot"],
            "error: snapshot /nonexistent/snapshot is not a folder",
        ),
        (
            ["run", "territory-change", "--territories", "/nonexistent/plan.csv"],
            "error: /nonexistent/plan.csv is not a file",
        ),
        # exit 1 like the others, not the 2 of a failed check
        (
            ["run", "hourly", "--accept-guard", "max_row_dorp"],
            "error: --accept-guard max_row_dorp is not a guard that can be accepted: did you mean "
            "max_row_drop? the guards are empty_export, max_row_drop,",
        ),
        (
            ["ingest", "--accept-guard", "empty_export", "--accept-guard", "UNKNOWN"],
            "error: --accept-guard UNKNOWN is not a guard that can be accepted: the guards are ",
        ),
    ],
)
def test_every_option_is_checked_before_anything_starts(
    tmp_path: Path, args: list[str], start: str
) -> None:
    if "--snapshot" not in args:
        args = [*args, "--snapshot", str(SALESFORCE)]
    line = one_line_error(
        runner.invoke(cli.app, [*args, "--warehouse", str(tmp_path / "w.duckdb")])
    )
    assert line.startswith(start)
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize("command", ["generate", "demo"])
def test_too_few_accounts_is_an_input_mistake(tmp_path: Path, command: str) -> None:
    out = tmp_path / "org"
    line = one_line_error(runner.invoke(cli.app, [command, "--out", str(out), "--accounts", "150"]))
    assert line == "error: --accounts 150: the generated org needs at least 200 accounts"
    assert not out.exists()


# ---------------------------------------------------------------- check


def _leads(count: int, email: str) -> str:
    header = "lead_id,email,created_at,company,country\n"
    return header + "".join(f"L{i},{email},2024-02-01T12:00:00Z,Co {i},US\n" for i in range(count))


def test_check_summarises_the_quarantine_by_column_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One table line per group whatever terminal (or none) the test runs in.
    monkeypatch.setattr(running.console, "width", 200)
    snap = tmp_path / "snap"
    shutil.copytree(BROKEN, snap)
    (snap / "leads.csv").write_text(
        _leads(120, "jane@acme.com")
        + _leads(80, "not-an-email").split("\n", 1)[1].replace("L", "M")
    )
    result = runner.invoke(
        cli.app,
        ["check", "--snapshot", str(snap), "--warehouse", str(tmp_path / "c.duckdb")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "by column and reason" in result.output
    summary = [line for line in result.output.splitlines() if "not-an-email" in line]
    assert len(summary) == 1  # 80 rows, one line
    assert "│ 80 rows │ 121, 122, 123, 124, 125 │" in summary[0]
    assert "'lots' is not an integer" in result.output
    assert "and more" not in result.output and "… and" not in result.output
    assert "85 rows would be quarantined and 2 cells cleared" in result.output


def test_check_fails_when_a_file_would_be_wholly_quarantined(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(BROKEN, snap)
    (snap / "leads.csv").write_text(_leads(2110, "not-an-email"))
    (snap / "hr.csv").write_text((BROKEN / "hr.csv").read_text().splitlines()[0] + "\n")
    result = runner.invoke(
        cli.app,
        ["check", "--snapshot", str(snap), "--warehouse", str(tmp_path / "c.duckdb")],
        env={"COLUMNS": "200"},
    )
    line = one_line_error(result, cli.EXIT_CHECK)
    assert line == (
        "error: hr.csv has a header only: a run would stop (guard empty_export); "
        "every row of leads.csv (2,110) would be quarantined: a run would route "
        "without leads"
    )
    assert "2,110" in result.output  # the summary, one line for the lot


def test_version_prints_the_package_and_engine_versions() -> None:
    import switchboard

    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == (
        f"switchboard {switchboard.__version__} (engine {switchboard.ENGINE_VERSION})"
    )
