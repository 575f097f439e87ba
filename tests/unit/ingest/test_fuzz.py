"""Hostile snapshots: every accounts file ingest is given either loads with
`input = loaded + quarantined` (and input = the data records written), or stops with one
SnapshotError line naming the file. Never another exception, never a vanished row."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.errors import SnapshotError
from switchboard.ingest import IngestReport, ingest_snapshot
from switchboard.publish.outbox import neutralise_formulas

# Examples per property and run of the suite. Each run draws new ones (and Hypothesis's
# database, .hypothesis/, replays any that failed before); an ingest costs about 0.2 s, so
# the suite keeps this small. For a deep search: SWITCHBOARD_FUZZ_EXAMPLES=1000 pytest
# tests/unit/ingest/test_fuzz.py
FUZZ_EXAMPLES = int(os.environ.get("SWITCHBOARD_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A tiny valid snapshot, five rows per entity; the tests mutate accounts only.
BASE: dict[str, str] = {
    "reps.csv": "rep_id,name,email,role\n"
    + "".join(f"R{i},Rep {i},rep{i}@example.com,AE\n" for i in range(1, 6)),
    "hr.csv": "email,status\n"
    + "".join(f"rep{i}@example.com,{'leave' if i == 5 else 'active'}\n" for i in range(1, 6)),
    "territories.csv": "territory_id,name,priority\n"
    + "".join(f"T{i},Territory {i},{i}\n" for i in range(1, 6)),
    "territory_members.csv": "territory_id,rep_id\n" + "".join(f"T{i},R{i}\n" for i in range(1, 6)),
}
ACCOUNT_HEADER = ["account_id", "name", "created_at", "employees", "tier", "owner_id"]
ACCOUNT_ROWS = [
    ["A1", "Acme", "2024-01-05", "120", "1", "R1"],
    ["A2", "Beta GmbH", "2024-01-06T10:00:00Z", "40", "2", ""],
    ["A3", "Gamma", "2024-02-01 08:30", "", "3", "R2"],
    ["A4", "Delta SA", "2024-03-01", "5000", "1", "R3"],
    ["A5", "Epsilon", "2024-04-01", "12", "2", ""],
]
HUGE = "x" * 100_000
HOSTILE_CELLS = [
    "Société Générale",
    "Müller & Söhne",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "line one\nline two",
    "carriage\rreturn",
    'say "hello"',
    "a,b,c",
    "   ",
    "NaN",
    "not-a-date",
    "1e400",
    "-7",
    "4.5",
    "9",
    HUGE,
]
LINE_ENDINGS = ["\n", "\r\n", "\r"]


def write_base(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in BASE.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def quote(cell: str, always: bool) -> str:
    if always or any(ch in cell for ch in ',"\r\n') or cell != cell.strip():
        return '"' + cell.replace('"', '""') + '"'
    return cell


def assert_one_line_naming(error: SnapshotError, file_name: str) -> None:
    message = str(error)
    assert message.strip(), "empty SnapshotError message"
    assert "\n" not in message and "\r" not in message, message
    assert file_name in message, message


def assert_reconciled(con: duckdb.DuckDBPyConnection, report: IngestReport) -> None:
    """loaded + quarantined = input for every entity, and both sides are real rows."""
    for entity, r in report.entities.items():
        assert r.loaded_rows + r.quarantined_rows == r.input_rows, entity
        stored = con.execute(f"select count(*) from raw.{entity}").fetchall()[0][0]
        assert stored == r.loaded_rows, entity
        set_aside = r.quarantine.filter(pl.col("action") == "row_quarantined")
        quarantined = set_aside.get_column("row_number").n_unique()
        assert quarantined == r.quarantined_rows, entity
    logged = con.execute(
        "select sum(input_rows - loaded_rows - quarantined_rows) from raw.ingest_log "
        "where run_id = ?",
        [report.run_id],
    ).fetchall()[0][0]
    assert logged == 0
    for entity in ("reps", "hr", "territories", "territory_members"):
        assert report[entity].loaded_rows == 5, entity


def ingest_or_fail_cleanly(
    folder: Path, con: duckdb.DuckDBPyConnection, file_name: str
) -> IngestReport | None:
    try:
        report = ingest_snapshot(folder, con, "fuzz")
    except SnapshotError as error:
        assert_one_line_naming(error, file_name)
        return None
    assert_reconciled(con, report)
    return report


# ------------------------------------------------------------------ hypothesis: CSV bytes


cells = st.one_of(
    st.sampled_from(HOSTILE_CELLS),
    st.text(alphabet=st.characters(codec="cp1252", exclude_characters="\x00"), max_size=12),
)


@st.composite
def hostile_accounts(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """accounts.csv bytes, and how many data records it holds (None: it must not load)."""
    header = list(ACCOUNT_HEADER)
    rows = [list(r) for r in ACCOUNT_ROWS]
    for row in rows:  # hostile values in any cell but the key
        for col in range(1, len(header)):
            if draw(st.integers(0, 3)) == 0:
                row[col] = draw(cells)
    extra = draw(st.lists(st.sampled_from(["notes", "Zip", "", "owner_id2"]), max_size=2))
    for name in extra:
        header.append(name)
        for row in rows:
            row.append(draw(cells))
    structure = draw(
        st.sampled_from(
            [
                "ok",
                "ok",
                "ok",
                "drop_optional",
                "drop_required",
                "duplicate",
                "empty",
                "header_only",
            ]
        )
    )
    loads = True
    if structure == "drop_optional":
        col = draw(st.sampled_from([3, 4, 5]))
        header.pop(col)
        for row in rows:
            row.pop(col)
    elif structure == "drop_required":
        col = draw(st.sampled_from([0, 1, 2]))
        header.pop(col)
        for row in rows:
            row.pop(col)
        loads = False
    elif structure == "duplicate":
        col = draw(st.integers(0, len(ACCOUNT_HEADER) - 1))
        header.append(header[col])
        for row in rows:
            row.append(row[col])
        loads = False
    if structure == "empty":
        return b"", None
    if structure == "header_only":
        rows = []

    always = draw(st.booleans())
    lines = [",".join(quote(c, always) for c in line) for line in [header, *rows]]
    endings = draw(
        st.lists(st.sampled_from(LINE_ENDINGS), min_size=len(lines), max_size=len(lines))
    )
    text = "".join(line + end for line, end in zip(lines, endings, strict=True))
    if draw(st.booleans()):
        text = text[: -len(endings[-1])]  # no newline after the last record
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0 and encoding == "cp1252":
        data = b"\xef\xbb\xbf" + data  # a BOM on top of legacy bytes
    return data, (len(rows) if loads else None)


@FUZZ
@given(case=hostile_accounts())
def test_hostile_accounts_csv_loads_reconciled_or_stops_cleanly(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[bytes, int | None]
) -> None:
    data, records = case
    folder = write_base(tmp_path_factory.mktemp("snap"))
    (folder / "accounts.csv").write_bytes(data)
    con = duckdb.connect()
    try:
        report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    finally:
        con.close()
    if records is None:
        assert report is None, "a file without a header or a required column loaded"
    elif report is not None:
        # No record silently vanished (or was split in two) on the way in.
        assert report["accounts"].input_rows == records


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_as_accounts_csv(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    folder = write_base(tmp_path_factory.mktemp("snap"))
    (folder / "accounts.csv").write_bytes(b"account_id,name,created_at\n" + data)
    con = duckdb.connect()
    try:
        ingest_or_fail_cleanly(folder, con, "accounts.csv")
    finally:
        con.close()


# ------------------------------------------------------------------ named hostile files


def accounts_text(rows: list[list[str]], end: str = "\n") -> str:
    lines = [",".join(quote(c, False) for c in r) for r in [ACCOUNT_HEADER, *rows]]
    return "".join(line + end for line in lines)


def test_utf8_bom_header_is_recognised(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_bytes(accounts_text(ACCOUNT_ROWS).encode("utf-8-sig"))
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None and report["accounts"].loaded_rows == 5


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_cp1252_export_keeps_its_accents(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, bom: bytes
) -> None:
    rows = [list(r) for r in ACCOUNT_ROWS]
    rows[0][1] = "Société Générale"
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_bytes(bom + accounts_text(rows).encode("cp1252"))
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None and report["accounts"].loaded_rows == 5
    names = con.execute("select name from raw.accounts where account_id = 'A1'").fetchall()
    assert names == [("Société Générale",)]


@pytest.mark.parametrize("ending", ["\r\n", "\r", "mixed"])
def test_every_line_ending_yields_every_record(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, ending: str
) -> None:
    if ending == "mixed":
        lines = accounts_text(ACCOUNT_ROWS).splitlines()
        text = "".join(line + LINE_ENDINGS[i % 3] for i, line in enumerate(lines))
    else:
        text = accounts_text(ACCOUNT_ROWS, ending)
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_bytes(text.encode())
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None
    assert report["accounts"].input_rows == report["accounts"].loaded_rows == 5
    ids = con.execute("select account_id, owner_id from raw.accounts order by 1").fetchall()
    assert ids == [(r[0], r[5] or None) for r in ACCOUNT_ROWS]


def test_quoted_newlines_and_huge_fields_stay_one_record(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    rows = [list(r) for r in ACCOUNT_ROWS]
    rows[0][1] = "Acme\nHoldings\r\nInc"
    rows[1][1] = HUGE
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_text(accounts_text(rows), encoding="utf-8")
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None and report["accounts"].loaded_rows == 5
    lengths = dict(con.execute("select account_id, length(name) from raw.accounts").fetchall())
    assert lengths["A2"] == len(HUGE)


def test_wrong_types_are_quarantined_not_fatal(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """A bad required value sets the row aside; bad optional values clear their cell."""
    rows = [list(r) for r in ACCOUNT_ROWS]
    rows[0][2] = "yesterday"  # created_at
    rows[1][3] = "forty"  # employees
    rows[2][4] = "7"  # tier outside 1-3
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_text(accounts_text(rows), encoding="utf-8")
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None
    accounts = report["accounts"]
    assert (accounts.loaded_rows, accounts.quarantined_rows) == (4, 1)
    assert accounts.quarantine.select("row_number", "action").sort("row_number").rows() == [
        (1, "row_quarantined"),
        (2, "cell_cleared"),
        (3, "cell_cleared"),
    ]


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "is empty"),
        (b"account_id,name,name,created_at\nA1,a,b,2024-01-01\n", "two columns for name"),
        (b"account_id,created_at\nA1,2024-01-01\n", "no column name"),
    ],
)
def test_structural_problems_stop_with_one_line(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, content: bytes, phrase: str
) -> None:
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_bytes(content)
    with pytest.raises(SnapshotError, match=phrase) as caught:
        ingest_snapshot(folder, con, "fuzz")
    assert_one_line_naming(caught.value, "accounts.csv")
    tables = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw'"
    ).fetchall()
    assert tables == [(0,)]  # nothing written


def test_header_only_file_loads_nothing(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_text("account_id,name,created_at\n", encoding="utf-8")
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None and report["accounts"].input_rows == 0


def test_formula_cells_load_verbatim(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Ingest keeps the data as exported; neutralising is the outbox's job."""
    rows = [list(r) for r in ACCOUNT_ROWS]
    rows[0][1] = '=HYPERLINK("http://evil.example","x")'
    rows[1][1] = "@SUM(A1:A9)"
    folder = write_base(tmp_path)
    (folder / "accounts.csv").write_text(accounts_text(rows), encoding="utf-8")
    report = ingest_or_fail_cleanly(folder, con, "accounts.csv")
    assert report is not None and report["accounts"].loaded_rows == 5
    names = dict(con.execute("select account_id, name from raw.accounts").fetchall())
    assert (names["A1"], names["A2"]) == (rows[0][1], rows[1][1])


# ------------------------------------------------------------------ hypothesis: parquet

PARQUET_TYPES: dict[str, st.SearchStrategy[pl.Series]] = {
    "string": st.lists(
        st.one_of(st.none(), st.sampled_from(HOSTILE_CELLS[:-1])), min_size=5, max_size=5
    ).map(lambda v: pl.Series(v, dtype=pl.String)),
    "int": st.lists(
        st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=5, max_size=5
    ).map(lambda v: pl.Series(v, dtype=pl.Int64)),
    "float": st.lists(st.one_of(st.none(), st.floats()), min_size=5, max_size=5).map(
        lambda v: pl.Series(v, dtype=pl.Float64)
    ),
    "bool": st.lists(st.one_of(st.none(), st.booleans()), min_size=5, max_size=5).map(
        lambda v: pl.Series(v, dtype=pl.Boolean)
    ),
    "date": st.lists(st.one_of(st.none(), st.dates()), min_size=5, max_size=5).map(
        lambda v: pl.Series(v, dtype=pl.Date)
    ),
    "datetime_tz": st.lists(
        st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
        ),
        min_size=5,
        max_size=5,
    ).map(lambda v: pl.Series(v, dtype=pl.Datetime("us")).dt.replace_time_zone("Asia/Tokyo")),
    "list": st.lists(
        st.one_of(st.none(), st.lists(st.text(max_size=4), max_size=3)), min_size=5, max_size=5
    ).map(lambda v: pl.Series(v, dtype=pl.List(pl.String))),
    "array": st.just(pl.Series([[1, 2]] * 5, dtype=pl.Array(pl.Int64, 2))),
    "struct": st.just(pl.Series([{"a": 1, "b": "x"}] * 5)),
    "null": st.just(pl.Series([None] * 5, dtype=pl.Null)),
    "binary": st.lists(st.binary(max_size=6), min_size=5, max_size=5).map(
        lambda v: pl.Series(v, dtype=pl.Binary)
    ),
    "duration": st.just(pl.Series([dt.timedelta(hours=1)] * 5)),
    "decimal": st.just(pl.Series([1, 2, 3, 4, 5]).cast(pl.Decimal(10, 2))),
}


@st.composite
def mistyped_accounts(draw: st.DrawFn) -> pl.DataFrame:
    columns: dict[str, pl.Series] = {}
    for name in ["account_id", "name", "created_at", "employees", "tier", "annual_revenue"]:
        kind = draw(st.sampled_from(sorted(PARQUET_TYPES)))
        columns[name] = draw(PARQUET_TYPES[kind]).alias(name)
    return pl.DataFrame(columns)


@FUZZ
@given(frame=mistyped_accounts())
def test_mistyped_parquet_loads_reconciled_or_stops_cleanly(
    tmp_path_factory: pytest.TempPathFactory, frame: pl.DataFrame
) -> None:
    folder = write_base(tmp_path_factory.mktemp("snap"))
    frame.write_parquet(folder / "accounts.parquet")
    con = duckdb.connect()
    try:
        report = ingest_or_fail_cleanly(folder, con, "accounts.parquet")
    finally:
        con.close()
    if report is not None:
        # A record whose every cell is null is no data row (as a blank line in a CSV).
        records = frame.filter(~pl.all_horizontal(pl.all().is_null())).height
        assert report["accounts"].input_rows == records


def test_parquet_array_column_is_read_as_a_list(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    folder = write_base(tmp_path)
    pl.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "name": pl.Series([["x", "y"], ["z", "w"]], dtype=pl.Array(pl.String, 2)),
            "created_at": ["2024-01-01", "2024-01-02"],
        }
    ).write_parquet(folder / "accounts.parquet")
    report = ingest_or_fail_cleanly(folder, con, "accounts.parquet")
    assert report is not None
    assert con.execute("select name from raw.accounts order by 1").fetchall() == [
        ("x;y",),
        ("z;w",),
    ]


# ------------------------------------------------------------------ outbox neutralising

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
risky_text = st.one_of(
    st.text(max_size=8),
    st.tuples(st.sampled_from(FORMULA_START), st.text(max_size=8)).map("".join),
    st.none(),
)


@FUZZ
@given(columns=st.lists(st.lists(risky_text, min_size=4, max_size=4), min_size=1, max_size=4))
def test_neutralise_formulas_quotes_every_formula_start(columns: list[list[str | None]]) -> None:
    frame = pl.DataFrame(
        {f"c{i}": pl.Series(col, dtype=pl.String) for i, col in enumerate(columns)}
    ).with_columns(n=pl.lit(7))
    out = neutralise_formulas(frame)
    assert out.schema == frame.schema and out["n"].to_list() == [7] * 4
    for name in frame.columns[:-1]:
        for before, after in zip(frame[name].to_list(), out[name].to_list(), strict=True):
            if before is None:
                assert after is None
            elif before.startswith(FORMULA_START):
                assert after == "'" + before
            else:
                assert after == before
            assert after is None or not after.startswith(FORMULA_START)
