"""Checks of a command's arguments against the snapshot, made before anything starts.

A departure for a rep the export does not list used to run the whole flow (Prefect, dbt,
Great Expectations: twenty seconds and more), decide nothing and exit 0, so a typo in
`--rep` looked like a departure handled. Reading one column of the reps file takes
milliseconds, so the mistake is named at once, with the ids it probably meant.

Polars, PyYAML and pydantic only (through the contracts): nothing heavy.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from switchboard.contracts import header_key, load_contracts
from switchboard.errors import InputError
from switchboard.mapping import HeaderMapping

# How many close matches a message suggests.
SUGGESTIONS = 3


def _reps_file(snapshot: Path) -> Path | None:
    """reps.csv or reps.parquet; None when neither (or both) exist: ingest names that."""
    found = [path for path in (snapshot / "reps.csv", snapshot / "reps.parquet") if path.is_file()]
    return found[0] if len(found) == 1 else None


def _rep_id_header(headers: Sequence[str], mapping: HeaderMapping | None = None) -> str | None:
    """The header ingest reads as rep_id: the mapping's headers for it (first present
    wins), else the reps contract's (rep_id, Id, UserId ...)."""
    mapped = mapping.columns("reps").get("rep_id") if mapping is not None else None
    if mapped is not None:
        present = {header_key(h): h for h in headers}
        return next(
            (present[header_key(h)] for h in mapped.header if header_key(h) in present), None
        )
    aliases = load_contracts()["reps"].alias_map()
    return next((h for h in headers if aliases.get(header_key(h)) == "rep_id"), None)


def rep_ids_in_export(snapshot: Path, mapping: HeaderMapping | None = None) -> pl.Series | None:
    """The rep_id column of the snapshot's reps file (read through ``mapping``'s headers
    when it maps the reps), stripped, without empties; None when the file cannot be read
    this simply (missing, no rep_id header, not UTF-8, broken): ingest reports those
    problems in its own words, so this check stands aside."""
    path = _reps_file(snapshot)
    if path is None:
        return None
    try:
        if path.suffix == ".csv":
            header = _rep_id_header(
                pl.read_csv(path, n_rows=0, infer_schema=False).columns, mapping
            )
            frame = pl.scan_csv(path, infer_schema=False, truncate_ragged_lines=True)
        else:
            header = _rep_id_header(list(pl.read_parquet_schema(path)), mapping)
            frame = pl.scan_parquet(path)
        if header is None:
            return None
        return (
            frame.select(pl.col(header).cast(pl.String).str.strip_chars().alias("rep_id"))
            .filter(pl.col("rep_id") != "")
            .unique()
            .collect()
            .to_series()
        )
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError):
        return None


def _close_matches(rep_id: str, known: pl.Series) -> list[str]:
    """The same id in another case first, then difflib's closest ids."""
    same_case = known.filter(known.str.to_lowercase() == rep_id.lower()).to_list()
    close = difflib.get_close_matches(rep_id, known.to_list(), n=SUGGESTIONS, cutoff=0.6)
    return list(dict.fromkeys([*same_case, *close]))[:SUGGESTIONS]


def check_leavers(
    snapshot: Path | str,
    rep_ids: Sequence[str],
    option: str = "--rep",
    mapping: HeaderMapping | None = None,
) -> None:
    """Raise InputError naming each rep id the snapshot's reps export does not list, with
    the closest ids it does. Silent when the reps file cannot be read simply (see
    rep_ids_in_export): the run then stops at ingest with the file's own problem."""
    snapshot = Path(snapshot)
    known = rep_ids_in_export(snapshot, mapping)
    if known is None:
        return
    listed = set(known.to_list())
    missing = [rep for rep in rep_ids if rep.strip() not in listed]
    if not missing:
        return
    source = _reps_file(snapshot)
    where = f"{source.name if source else 'the reps export'} of snapshot {snapshot}"
    parts = []
    for rep in missing:
        close = _close_matches(rep.strip(), known)
        hint = (
            "; did you mean " + " or ".join(close) + "?"
            if close
            else f"; it lists {known.len():,} reps, such as "
            + ", ".join(known.sort().head(SUGGESTIONS).to_list())
        )
        parts.append(f"{option} {rep} is not in {where}{hint}")
    raise InputError("; ".join(parts))
