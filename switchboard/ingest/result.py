"""What an ingest did: per entity, the rows read, loaded and quarantined, and the
quarantine itself, counted for `switchboard check`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from switchboard.ingest.validate import QUARANTINE_SCHEMA

SUMMARY_ROWS = 5  # row numbers shown per reason in `switchboard check`

INGEST_LOG_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "entity": pl.String(),
    "source_file": pl.String(),
    "input_rows": pl.Int64(),
    "loaded_rows": pl.Int64(),
    "quarantined_rows": pl.Int64(),
    "ingested_at": pl.Datetime("us"),
}

EXPORT_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "entity": pl.String(),
    "source_file": pl.String(),
    "digest": pl.String(),
    "input_rows": pl.Int64(),
    "loaded_rows": pl.Int64(),
    "loaded_at": pl.Datetime("us"),
}


@dataclass(frozen=True)
class EntityReport:
    """What ingest did with one entity's file."""

    entity: str
    source_file: str | None
    input_rows: int
    loaded_rows: int
    quarantined_rows: int
    ignored_columns: tuple[str, ...] = ()
    quarantine: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA), repr=False
    )
    digest: str | None = None  # sha256 of the file (None: no file)
    # The rows set aside, typed, with their first problem (see Validated).
    rejected: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)


@dataclass(frozen=True)
class IngestReport:
    """Per-entity counts and the quarantined rows of one ingest run."""

    run_id: str
    snapshot: Path
    entities: dict[str, EntityReport]
    # The full load this one's change set compares with (switchboard.changes); None for a
    # first load (everything is new) and for a check or an arrivals pass.
    base_run_id: str | None = None

    def __getitem__(self, entity: str) -> EntityReport:
        return self.entities[entity]

    def ingest_log(self, at: datetime) -> pl.DataFrame:
        """raw.ingest_log's rows for this ingest: one per entity, ingested ``at``."""
        return pl.DataFrame(
            [
                {
                    "run_id": self.run_id,
                    "entity": r.entity,
                    "source_file": r.source_file,
                    "input_rows": r.input_rows,
                    "loaded_rows": r.loaded_rows,
                    "quarantined_rows": r.quarantined_rows,
                    "ingested_at": at,
                }
                for r in self.entities.values()
            ],
            schema=INGEST_LOG_SCHEMA,
        )

    def export_history(self, at: datetime) -> pl.DataFrame:
        """raw.export_history's rows for a full load: one per file read (with a digest)."""
        return pl.DataFrame(
            [
                {
                    "run_id": self.run_id,
                    "entity": r.entity,
                    "source_file": r.source_file,
                    "digest": r.digest,
                    "input_rows": r.input_rows,
                    "loaded_rows": r.loaded_rows,
                    "loaded_at": at,
                }
                for r in self.entities.values()
                if r.digest is not None
            ],
            schema=EXPORT_HISTORY_SCHEMA,
        )

    @property
    def quarantine(self) -> pl.DataFrame:
        """Every quarantined (row, column, expectation), entity by entity."""
        frames = [r.quarantine for r in self.entities.values()]
        return pl.concat(frames) if frames else pl.DataFrame(schema=QUARANTINE_SCHEMA)

    @property
    def quarantined_rows(self) -> int:
        return sum(r.quarantined_rows for r in self.entities.values())

    @property
    def wholly_quarantined(self) -> list[EntityReport]:
        """Entities whose file has rows and none of them loads: a format change (a date
        format, a renamed status) rather than a few bad rows."""
        return [r for r in self.entities.values() if r.input_rows and not r.loaded_rows]

    def quarantine_summary(self) -> pl.DataFrame:
        """The quarantine counted by entity, column, check and action, largest first, each
        with its first rows and one example reason: thousands of rows set aside for one
        reason read as one line, not as a list cut after the first fifty."""
        return (
            self.quarantine.lazy()
            .group_by("entity", "column_name", "expectation", "action")
            .agg(
                rows=pl.len(),
                first_rows=pl.col("row_number")
                .sort()
                .head(SUMMARY_ROWS)
                .cast(pl.String)
                .str.join(", "),
                example=pl.col("reason").sort_by("row_number").first(),
            )
            .sort(
                ["rows", "entity", "column_name", "expectation"],
                descending=[True, False, False, False],
            )
            .collect()
        )

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Counts per entity, ready for logs and summaries."""
        return {
            entity: {
                "source_file": r.source_file,
                "input_rows": r.input_rows,
                "loaded_rows": r.loaded_rows,
                "quarantined_rows": r.quarantined_rows,
                "ignored_columns": list(r.ignored_columns),
            }
            for entity, r in self.entities.items()
        }
