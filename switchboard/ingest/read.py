"""Reading one entity's file of a snapshot: CSV or Parquet as text, with its contract's
columns found among the headers.

A CSV is read as UTF-8 (with or without a byte-order mark), else as Windows-1252, with
any line ends; a line with more fields than the header keeps the fields past it (RAGGED)
and the last line of a file that looks cut says why (TRUNCATED), for the contract checks
to set those lines aside (switchboard.ingest.validate). A compressed, spreadsheet or other
binary file is named in one line instead. Headers map to contract columns through the
contract's aliases, or through a header mapping's headers and value formats
(switchboard.mapping). Every problem with the file as a whole raises SnapshotError.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from switchboard.contracts import Column, Contract, header_key
from switchboard.errors import SnapshotError
from switchboard.mapping import ColumnMapping, HeaderMapping, canonical

ROW_NUMBER = "_row_number"
# The fields past the header on a line that has too many (see _read_ragged_csv).
RAGGED = "_fields_past_header"
RAGGED_SPARE = 8  # spare columns read past the header; more extra fields are cut off
# Why the last line of a file that ends without a line break looks cut (see _mark_cut_last_line).
TRUNCATED = "_truncated_line"
_DUPLICATE_HEADER = re.compile(r"^(?P<base>.*)_duplicated_\d+$")  # how Polars renames repeats


@dataclass(frozen=True)
class Source:
    """One entity's file as read: contract columns as text plus `_row_number`."""

    path: Path | None
    frame: pl.DataFrame
    ignored: tuple[str, ...]
    digest: str | None = None  # sha256 of the file: tells a new export from the same one
    mapped_columns: tuple[str, ...] = ()  # read through a header mapping's headers

    def rep_matched(self, mapping: HeaderMapping | None, entity: str) -> list[str]:
        """The columns whose values name reps: mapped ones the mapping says match reps."""
        if mapping is None:
            return []
        return [c for c in mapping.rep_matched(entity) if c in self.mapped_columns]


def read_entity(snapshot: Path, contract: Contract, mapping: HeaderMapping | None = None) -> Source:
    """Find, read and map one entity's file; an absent optional file is an empty frame."""
    entity = contract.entity
    csv, parquet = snapshot / f"{entity}.csv", snapshot / f"{entity}.parquet"
    if csv.is_file() and parquet.is_file():
        raise SnapshotError(
            f"snapshot {snapshot}: both {csv.name} and {parquet.name} exist; keep one"
        )
    path = csv if csv.is_file() else parquet if parquet.is_file() else None
    if path is None:
        if contract.required:
            raise SnapshotError(
                f"snapshot {snapshot}: required file {csv.name} (or .parquet) is missing"
            )
        empty = pl.DataFrame(schema={c: pl.String() for c in contract.column_names})
        return Source(None, empty.with_columns(pl.lit(0, pl.Int64).alias(ROW_NUMBER)), ())
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: cannot read {path.name}: {_first_line(exc)}"
        ) from None
    _refuse_other_formats(snapshot, path, data)
    raw = _read_csv(snapshot, path, data) if path is csv else _read_parquet(snapshot, path)
    if path is csv:
        raw = _mark_cut_last_line(raw, data)
    source = _map_columns(snapshot, path, raw, contract, mapping)
    return replace(source, digest=hashlib.sha256(data).hexdigest())


# What a file that is not the CSV or Parquet its name promises starts with, and what to do.
_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip archive, not {kind}: decompress it (gunzip) first"),
    (
        b"PK\x03\x04",
        "a zip archive (an .xlsx workbook is one), not {kind}: unzip it, or save the sheet as CSV",
    ),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel (.xls) workbook, not {kind}: save the sheet as CSV"),
    (b"BZh", "a bzip2 archive, not {kind}: decompress it first"),
    (b"\xfd7zXZ", "an xz archive, not {kind}: decompress it first"),
    (b"%PDF", "a PDF document, not {kind}"),
)


def _refuse_other_formats(snapshot: Path, path: Path, data: bytes) -> None:
    """Name a compressed, spreadsheet or other binary file in one line instead of loading
    it as garbage (or failing deep inside the CSV reader)."""
    kind = "CSV" if path.suffix == ".csv" else "Parquet"
    if kind == "CSV" and data.startswith(b"PAR1"):
        raise SnapshotError(
            f"snapshot {snapshot}: {path.name} is a Parquet file, not CSV: "
            f"name it {path.stem}.parquet"
        )
    for magic, what in _FORMATS:
        if data.startswith(magic):
            raise SnapshotError(f"snapshot {snapshot}: {path.name} is {what.format(kind=kind)}")
    if kind == "CSV" and b"\x00" in data[:4096] and not data.startswith(_UTF16_BOMS):
        raise SnapshotError(f"snapshot {snapshot}: {path.name} is a binary file, not CSV text")


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _mark_cut_last_line(frame: pl.DataFrame, data: bytes) -> pl.DataFrame:
    """Add TRUNCATED: on the last row, why it looks cut; null elsewhere.

    A file that ends without a line break may have been cut mid-line (a copy stopped, an
    export timed out). Its last line is set aside when it has fewer fields than the header,
    or when its last value is shorter than every other value of that column (an id cut to
    `REP-00` among `REP-0001`...). Complete files end with a line break, whatever wrote
    them, so a well-formed export is never affected.
    """
    if not frame.height or data.endswith((b"\n", b"\r")):
        return frame
    header = [c for c in frame.columns if c != RAGGED]
    line = data[max(data.rfind(b"\n"), data.rfind(b"\r")) + 1 :].decode("utf-8", errors="replace")
    fields = next(csv.reader([line]), [])
    why: str | None = None
    if len(fields) < len(header):
        why = (
            f"the file ends without a line break and its last line has {len(fields)} of "
            f"{len(header)} fields: the export looks cut"
        )
    elif fields and frame.height > 1:
        last = header[-1]
        others = frame.get_column(last).head(frame.height - 1).drop_nulls().str.strip_chars()
        shortest = others.filter(others != "").str.len_chars().min()
        value = fields[len(header) - 1].strip()
        if value and isinstance(shortest, int) and len(value) < shortest:
            why = (
                f"the file ends without a line break and its last value {value!r} is "
                f"shorter than every other {last}: the export looks cut"
            )
    last_row = pl.int_range(pl.len()) == pl.len() - 1
    return frame.with_columns(pl.when(last_row).then(pl.lit(why, pl.String)).alias(TRUNCATED))


def _read_csv(snapshot: Path, path: Path, data: bytes) -> pl.DataFrame:
    """Every column as text. UTF-8 (BOM or not) first, then Windows-1252 for legacy exports."""

    def read(source: Path | bytes) -> pl.DataFrame:
        try:
            return pl.read_csv(source, infer_schema=False, glob=False, raise_if_empty=True)
        except pl.exceptions.ComputeError as exc:
            if "more fields than defined" not in str(exc):
                raise
            return _read_ragged_csv(source.read_bytes() if isinstance(source, Path) else source)

    try:
        # Polars ends records at '\n' only: a file with bare '\r' line ends (old Mac and
        # Excel "CSV (Macintosh)" exports) would read as one header line and lose its rows.
        source: Path | bytes = _unix_line_ends(data) if _LONE_CR.search(data) else path
        try:
            return read(source)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower():
                raise
            raw = source if isinstance(source, bytes) else data
            text = raw.removeprefix(_UTF8_BOM).decode("cp1252", errors="replace")
            return read(text.encode("utf-8"))
    except pl.exceptions.NoDataError:
        raise SnapshotError(
            f"snapshot {snapshot}: {path.name} is empty (expected a header row)"
        ) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: cannot read {path.name}: {_first_line(exc)}"
        ) from None


def _read_ragged_csv(data: bytes) -> pl.DataFrame:
    """A CSV where some lines have more fields than the header (an unquoted comma in a
    name, a stray delimiter): read with RAGGED_SPARE spare columns after the header's, so
    every line keeps its first fields and, in RAGGED, the fields past the header (the
    first RAGGED_SPARE of them); validate_entity then quarantines those lines instead of
    the whole file stopping. Empty trailing fields do not count."""
    header = pl.read_csv(data, n_rows=0, infer_schema=False).columns
    spare = [f"__past_header_{i}__" for i in range(RAGGED_SPARE)]
    body = pl.read_csv(
        data,
        has_header=False,
        skip_rows=1,
        schema={c: pl.String for c in header + spare},
        truncate_ragged_lines=True,
        missing_columns="insert",
    )
    past = pl.when(pl.any_horizontal(pl.col(spare).is_not_null())).then(
        pl.concat_str(pl.col(spare), separator=",", ignore_nulls=True)
    )
    return body.select(*header, past.alias(RAGGED))


_LONE_CR = re.compile(rb"\r(?!\n)")
_CSV_LINE_END = re.compile(rb'("(?:[^"]|"")*")|\r\n?')  # a quoted field, or a line end
_UTF8_BOM = b"\xef\xbb\xbf"


def _unix_line_ends(data: bytes) -> bytes:
    """'\r\n' and bare '\r' line ends outside quoted fields become '\n'."""
    return _CSV_LINE_END.sub(lambda m: m.group(1) or b"\n", data)


def _read_parquet(snapshot: Path, path: Path) -> pl.DataFrame:
    """Parquet as read; columns become text only after mapping (see _as_text)."""
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: cannot read {path.name}: {_first_line(exc)}"
        ) from None


@dataclass(frozen=True)
class HeaderMap:
    """Which header supplies each contract column (``picked``), the ones read through a
    header mapping (``by_mapping``) and the headers no contract column claims."""

    picked: dict[str, str]
    by_mapping: tuple[str, ...]
    ignored: tuple[str, ...]


def map_headers(
    snapshot: Path | str,
    file_name: str,
    headers: Sequence[str],
    contract: Contract,
    mapping: HeaderMapping | None = None,
) -> HeaderMap:
    """Find the contract's columns among a file's headers; fail on missing or doubled ones.

    A mapped column is read from the first of its mapping's headers the file has, and its
    values as the mapping says; the contract's aliases for it then no longer count, so
    they cannot claim it twice. A file that has none of them (a preset's entity exported
    with Switchboard's own columns) is read through the aliases as usual."""
    mapped = mapping.columns(contract.entity) if mapping is not None else {}
    picked: dict[str, str] = _mapped_headers(headers, mapped)
    by_mapping = tuple(picked)
    aliases = {
        alias: column for alias, column in contract.alias_map().items() if column not in by_mapping
    }
    present = set(headers)
    ignored: list[str] = []
    for header in headers:
        if header in (RAGGED, TRUNCATED) or header in picked.values():
            continue
        repeat = _DUPLICATE_HEADER.match(header)
        original = repeat["base"] if repeat and repeat["base"] in present else header
        target = aliases.get(header_key(original))
        if target is None:
            ignored.append(header)
        elif target in picked:
            raise SnapshotError(
                f"snapshot {snapshot}: {file_name} has two columns for {target}: "
                f"{picked[target]!r} and {original!r}"
            )
        else:
            picked[target] = header
    missing = [c for c in contract.columns if c.required and c.name not in picked]
    if missing:
        raise SnapshotError(
            f"snapshot {snapshot}: {file_name} has no column "
            + "; no column ".join(_with_aliases(c, mapped.get(c.name)) for c in missing)
        )
    return HeaderMap(picked, by_mapping, tuple(ignored))


def contract_text(
    numbered: pl.DataFrame,
    headers: HeaderMap,
    contract: Contract,
    mapping: HeaderMapping | None = None,
    *,
    snapshot: Path | str = "",
    file_name: str = "",
) -> pl.DataFrame:
    """A file's rows, already numbered in `_row_number`, as the contract columns' text:
    rows whose every field is empty dropped, values as text (see _as_text) and mapped
    columns in the formats the contract parser reads."""
    data = [c for c in numbered.columns if c != ROW_NUMBER]
    kept = numbered.filter(~pl.all_horizontal(pl.col(data).is_null()) if data else pl.lit(True))
    text = _as_text(snapshot, file_name, kept, headers.picked)
    mapped = mapping.columns(contract.entity) if mapping is not None else {}
    formatted = [
        canonical(pl.col(name), contract.column(name), mapped[name]).alias(name)
        for name in headers.by_mapping
    ]
    return text.with_columns(formatted) if formatted else text


def _map_columns(
    snapshot: Path,
    path: Path,
    raw: pl.DataFrame,
    contract: Contract,
    mapping: HeaderMapping | None = None,
) -> Source:
    """Rename source headers to contract columns (map_headers) and read them as text
    (contract_text), rows numbered in file order."""
    headers = map_headers(snapshot, path.name, raw.columns, contract, mapping)
    numbered = raw.with_row_index(ROW_NUMBER, offset=1)
    text = contract_text(
        numbered, headers, contract, mapping, snapshot=snapshot, file_name=path.name
    )
    return Source(path, text, headers.ignored, mapped_columns=headers.by_mapping)


def _mapped_headers(headers: Sequence[str], mapped: Mapping[str, ColumnMapping]) -> dict[str, str]:
    """Contract column -> the first of its mapped headers present (case, spaces and a
    byte-order mark ignored)."""
    present = {header_key(h): h for h in headers}
    picked: dict[str, str] = {}
    for column, spec in mapped.items():
        found = next(
            (present[header_key(h)] for h in spec.header if header_key(h) in present), None
        )
        if found is not None:
            picked[column] = found
    return picked


def _as_text(
    snapshot: Path | str, file_name: str, frame: pl.DataFrame, picked: Mapping[str, str]
) -> pl.DataFrame:
    """Picked columns as strings under contract names, so CSV and Parquet check alike.

    Parquet lists are joined with ';' (as a CSV would carry them); float NaN becomes
    'NaN', which numeric columns read as missing; timestamps keep their offset in the
    text for the timestamp parser to convert to UTC.
    """
    exprs: list[pl.Expr] = [pl.col(ROW_NUMBER).cast(pl.Int64)]
    exprs.extend(pl.col(c) for c in (RAGGED, TRUNCATED) if c in frame.columns)
    for target, header in picked.items():
        dtype = frame.schema[header]
        column = pl.col(header)
        if isinstance(dtype, pl.Array):
            column = column.arr.to_list()  # list.eval does not take fixed-size arrays
        if isinstance(dtype, pl.List | pl.Array):
            column = column.list.eval(pl.element().cast(pl.String)).list.join(";")
        elif dtype != pl.String:
            column = column.cast(pl.String)
        exprs.append(column.alias(target))
    try:
        return frame.select(exprs)
    except pl.exceptions.PolarsError as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: {file_name} has a column that cannot be read as text: "
            f"{_first_line(exc)}"
        ) from None


def _with_aliases(column: Column, mapped: ColumnMapping | None = None) -> str:
    """The column and every header that would have supplied it."""
    headers = ", ".join(mapped.header) if mapped is not None else ""
    if not column.aliases:
        return f"{column.name} (mapped from {headers})" if headers else column.name
    spare = f"mapped from {headers}, " if headers else ""
    return f"{column.name} ({spare}or an alias: {', '.join(column.aliases)})"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
