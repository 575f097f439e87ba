"""The members' start state as the rest of the engine reads it: each territory's
start-of-run pick (conflicts, candidates) and who is skipped or off duty (rationale)."""

from __future__ import annotations

import polars as pl

from switchboard.engine.capacity.state import delta_for


def off_duty_members(members: pl.DataFrame) -> pl.DataFrame:
    """Per territory (or lead group), members who could take a lead but are outside
    their working hours, as rationale text: "Ana Silva (starts 09:00 Europe/Berlin)"."""
    return (
        members.lazy()
        .filter(pl.col("lead_able") & ~pl.col("working_now"))
        .sort("territory_id", "next_start", "rep_name", nulls_last=True)
        .group_by("territory_id", maintain_order=True)
        .agg(
            off_duty_text=pl.concat_str([pl.col("rep_name"), _with_start()], ignore_nulls=True)
            .head(3)
            .str.join(", "),
            off_duty_count=pl.len(),
        )
        .select(
            "territory_id",
            off_duty_text=pl.when(pl.col("off_duty_count") > 3)
            .then(pl.format("{} and {} more", "off_duty_text", pl.col("off_duty_count") - 3))
            .otherwise(pl.col("off_duty_text")),
        )
        .collect(engine="in-memory")
    )


def _with_start() -> pl.Expr:
    return pl.concat_str([pl.lit(" (starts "), pl.col("next_start_text"), pl.lit(")")])


def start_picks(members: pl.DataFrame) -> pl.DataFrame:
    """Who each territory would hand its first account / first lead to at the start of run.

    Used to describe competing territories in conflicts and candidates; the actual
    placement is `place`.
    """
    types = pl.DataFrame({"record_type": ["account", "lead"]})
    return (
        members.lazy()
        .join(types.lazy(), how="cross")
        .filter(
            pl.when(pl.col("record_type") == "lead")
            .then(pl.col("eligible_lead"))
            .otherwise(pl.col("eligible"))
        )
        .with_columns(key=pl.col("index") + delta_for(pl.col("record_type")) / pl.col("weight"))
        .sort("territory_id", "record_type", "key", "rr_position", "rep_id")
        .group_by("territory_id", "record_type", maintain_order=True)
        .agg(pick_owner_id=pl.col("rep_id").first())
        .collect(engine="in-memory")
    )


def skipped_members(members: pl.DataFrame) -> pl.DataFrame:
    """Per territory, the members skipped at the start and why, as rationale text."""
    return (
        members.lazy()
        .filter(~pl.col("eligible"))
        .sort("territory_id", "rep_name", "rep_id")
        .group_by("territory_id", maintain_order=True)
        .agg(
            skipped_text=pl.format("{} ({})", "rep_name", "skip_reason").head(3).str.join(", "),
            skipped_count=pl.len(),
        )
        .with_columns(
            skipped_text=pl.when(pl.col("skipped_count") > 3)
            .then(pl.format("{} and {} more", "skipped_text", pl.col("skipped_count") - 3))
            .otherwise(pl.col("skipped_text"))
        )
        .select("territory_id", "skipped_text")
        .collect(engine="in-memory")
    )
