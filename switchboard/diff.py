"""What a change of config or territory plan would change, record by record.

A what-if (switchboard.whatif) routes the same export twice, under the current config and
plan and under the new ones, with the same engine on the same inputs. `compare` sets the
two outcomes side by side: a record *moves* when its owner or queue differs. Records that
both configs decide alike (a leaver's book, an unowned account) do not show, so only the
edit's effect does. Per territory and per rep it counts the records in and out, and the
workload before and after: each rep's workload index (marts.fct_rep_workload) plus what
the decisions add or take away, one delta per record as the engine counts it
(switchboard.engine.capacity). A territory's fairness is the largest deviation of an
available member's workload from the mean of the territory's available members.

Pure Polars; `render_html` is the shareable page (one file, no script, opens offline).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import polars as pl
import polars.selectors as cs

KEYS = ["record_type", "record_id"]
# A record one config leaves where it is: its rule in moves.csv.
KEPT = "kept"

MOVES_SCHEMA: dict[str, pl.DataType] = {
    name: pl.String()
    for name in (
        "record_type",
        "record_id",
        "record_name",
        "from_owner_id",
        "from_owner_name",
        "from_queue",
        "to_owner_id",
        "to_owner_name",
        "to_queue",
        "from_rule",
        "to_rule",
        "from_territory_id",
        "from_territory_name",
        "to_territory_id",
        "to_territory_name",
        "rationale",
    )
}
# Where records sit that a config may leave undecided (switchboard.queued: settled in a
# queue or pool): their latest published decision.
WAITING_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "queue": pl.String(),
    "rule": pl.String(),
    "territory_id": pl.String(),
}
NAMES_SCHEMA: dict[str, pl.DataType] = {
    "record_type": pl.String(),
    "record_id": pl.String(),
    "record_name": pl.String(),
}
# Side.reps: the roster as the side's marts describe it, with its workload deltas.
REPS_SCHEMA: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "rep_name": pl.String(),
    "team": pl.String(),
    "is_available": pl.Boolean(),
    "workload_index": pl.Float64(),
    "delta_account": pl.Float64(),
    "delta_lead": pl.Float64(),
}
PER_REP_SCHEMA: dict[str, pl.DataType] = {
    "rep_id": pl.String(),
    "rep_name": pl.String(),
    "team": pl.String(),
    "records_in": pl.Int64(),
    "records_out": pl.Int64(),
    "workload_before": pl.Float64(),
    "workload_after": pl.Float64(),
    "workload_change": pl.Float64(),
}
PER_TERRITORY_SCHEMA: dict[str, pl.DataType] = {
    "territory_id": pl.String(),
    "territory_name": pl.String(),
    "records_in": pl.Int64(),
    "records_out": pl.Int64(),
    "moved_within": pl.Int64(),
    "members_before": pl.Int64(),
    "members_after": pl.Int64(),
    "mean_workload_before": pl.Float64(),
    "mean_workload_after": pl.Float64(),
    "max_deviation_before": pl.Float64(),
    "max_deviation_after": pl.Float64(),
}
# Workload figures are shown to one decimal; smaller differences are no change.
_PLACES = 1
_EPSILON = 0.05
# The page lists this many moves; moves.csv has them all.
PAGE_MOVES = 1000


@dataclass(frozen=True)
class Side:
    """What one config and plan decide on the export, and the roster and plan they
    decided against (read from the marts that side was routed on)."""

    decisions: pl.DataFrame  # the engine's decisions (switchboard.engine.schema.DECISIONS)
    conflicts: pl.DataFrame  # the conflicts it logged
    rep_state: pl.DataFrame  # rep_id, is_overflowing, … after the run
    reps: pl.DataFrame  # REPS_SCHEMA
    members: pl.DataFrame  # territory_id, rep_id
    territories: pl.DataFrame  # territory_id, territory_name

    @property
    def overflow(self) -> int:
        """Records sent to an overflow queue (or a territory's backup owner)."""
        return self.decisions.filter(pl.col("rule") == "overflow_queue").height


@dataclass(frozen=True)
class PlanDiff:
    """The new config's outcome against the current one's, on the same export."""

    moves: pl.DataFrame  # MOVES_SCHEMA: every record whose owner or queue differs
    per_territory: pl.DataFrame  # PER_TERRITORY_SCHEMA: territories the change touches
    per_rep: pl.DataFrame  # PER_REP_SCHEMA: reps the change touches
    decided: int  # records either config decides
    conflicts_before: int = 0
    conflicts_after: int = 0
    overflow_before: int = 0
    overflow_after: int = 0
    newly_overflowing: list[str] = field(default_factory=list)  # reps over high water

    @property
    def to_queues(self) -> int:
        """Moves that leave a record in a queue or pool rather than with a rep."""
        return self.moves.filter(pl.col("to_owner_id").is_null()).height

    def count(self, record_type: str) -> int:
        return self.moves.filter(pl.col("record_type") == record_type).height

    def headline(self) -> str:
        text = (
            f"{_plural(self.moves.height, 'record')} would move "
            f"({_plural(self.count('account'), 'account')}, "
            f"{_plural(self.count('lead'), 'lead')}; {self.to_queues} to a queue) of the "
            f"{_plural(self.decided, 'record')} the two configs decide; overflow "
            f"{self.overflow_before} → {self.overflow_after} records, conflicts "
            f"{self.conflicts_before} → {self.conflicts_after}"
        )
        if self.newly_overflowing:
            shown = ", ".join(self.newly_overflowing[:5])
            more = len(self.newly_overflowing) - 5
            text += (
                f"; {_plural(len(self.newly_overflowing), 'rep')} would newly stop "
                "taking records "
                f"({shown}{f' and {more} more' if more > 0 else ''})"
            )
        return text + "."


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _side_outcomes(side: Side, prefix: str) -> pl.DataFrame:
    return side.decisions.select(
        *KEYS,
        *(
            pl.col(column).alias(f"{prefix}_{column}")
            for column in (
                "owner_id",
                "queue",
                "rule",
                "territory_id",
                "rationale",
                "previous_owner_id",
            )
        ),
    )


def _place(decided: pl.Expr, prefix: str) -> list[pl.Expr]:
    """A side's owner, queue, rule and territory: its decision, or where the record stays
    when it does not decide it (the owner it has, else the queue it waits in)."""
    has_owner = pl.col("_previous").is_not_null()
    return [
        pl.when(decided)
        .then(pl.col(f"{prefix}_owner_id"))
        .otherwise(pl.col("_previous"))
        .alias(f"{prefix}_owner_id"),
        pl.when(decided)
        .then(pl.col(f"{prefix}_queue"))
        .when(~has_owner)
        .then(pl.col("_waiting_queue"))
        .alias(f"{prefix}_queue"),
        pl.when(decided)
        .then(pl.col(f"{prefix}_rule"))
        .when(~has_owner)
        .then(pl.coalesce("_waiting_rule", pl.lit(KEPT)))
        .otherwise(pl.lit(KEPT))
        .alias(f"{prefix}_rule"),
        pl.when(decided)
        .then(pl.col(f"{prefix}_territory_id"))
        .when(~has_owner)
        .then(pl.col("_waiting_territory"))
        .alias(f"{prefix}_territory_id"),
    ]


def moved_records(before: Side, after: Side, waiting: pl.DataFrame) -> pl.DataFrame:
    """Every record either side decides, with both places; ``moved`` when the owner or the
    queue differs. ``waiting``: WAITING_SCHEMA."""
    decided_before = pl.col("from_rule").is_not_null()
    decided_after = pl.col("to_rule").is_not_null()
    waits = waiting.select(
        *KEYS, _waiting_queue="queue", _waiting_rule="rule", _waiting_territory="territory_id"
    )
    return (
        _side_outcomes(before, "from")
        .join(_side_outcomes(after, "to"), on=KEYS, how="full", coalesce=True)
        .join(waits, on=KEYS, how="left")
        .with_columns(
            _previous=pl.coalesce("from_previous_owner_id", "to_previous_owner_id"),
            _after_decides=decided_after,
        )
        .with_columns(*_place(decided_before, "from"), *_place(decided_after, "to"))
        .with_columns(
            moved=pl.col("from_owner_id").ne_missing(pl.col("to_owner_id"))
            | pl.col("from_queue").ne_missing(pl.col("to_queue")),
            rationale=pl.when("_after_decides")
            .then(pl.col("to_rationale"))
            .otherwise(
                pl.format(
                    "not decided again under the new config: stays with {}",
                    pl.coalesce("to_owner_id", "to_queue", pl.lit("no one")),
                )
            ),
        )
        .drop(
            cs.starts_with("_"),
            "from_rationale",
            "to_rationale",
            "from_previous_owner_id",
            "to_previous_owner_id",
        )
    )


def _named(moves: pl.DataFrame, before: Side, after: Side, names: pl.DataFrame) -> pl.DataFrame:
    def rep_names(side: Side, prefix: str) -> pl.DataFrame:
        return side.reps.select(
            pl.col("rep_id").alias(f"{prefix}_owner_id"),
            pl.col("rep_name").alias(f"{prefix}_owner_name"),
        )

    def territory_names(side: Side, prefix: str) -> pl.DataFrame:
        return side.territories.select(
            pl.col("territory_id").alias(f"{prefix}_territory_id"),
            pl.col("territory_name").alias(f"{prefix}_territory_name"),
        ).unique(f"{prefix}_territory_id", keep="first")

    return (
        moves.join(names.unique(KEYS, keep="first"), on=KEYS, how="left")
        .join(
            rep_names(before, "from").unique("from_owner_id", keep="first"),
            on="from_owner_id",
            how="left",
        )
        .join(
            rep_names(after, "to").unique("to_owner_id", keep="first"), on="to_owner_id", how="left"
        )
        .join(territory_names(before, "from"), on="from_territory_id", how="left")
        .join(territory_names(after, "to"), on="to_territory_id", how="left")
        .select(MOVES_SCHEMA.keys())
        .cast(MOVES_SCHEMA)  # type: ignore[arg-type]
        .sort(KEYS)
    )


def workload(side: Side) -> pl.DataFrame:
    """rep_id, workload: each rep's workload index with the side's decisions applied
    (a record gained adds its delta, a record lost takes it away)."""
    changed = side.decisions.filter(pl.col("owner_id").ne_missing(pl.col("previous_owner_id")))
    gained = changed.filter(pl.col("owner_id").is_not_null()).select(
        "record_type", rep_id="owner_id", sign=pl.lit(1.0)
    )
    lost = changed.filter(pl.col("previous_owner_id").is_not_null()).select(
        "record_type", rep_id="previous_owner_id", sign=pl.lit(-1.0)
    )
    deltas = side.reps.select("rep_id", "delta_account", "delta_lead").unique("rep_id")
    change = (
        pl.concat([gained, lost])
        .join(deltas, on="rep_id", how="inner")
        .group_by("rep_id")
        .agg(
            change=(
                pl.col("sign")
                * pl.when(pl.col("record_type") == "lead")
                .then(pl.col("delta_lead"))
                .otherwise(pl.col("delta_account"))
            ).sum()
        )
    )
    return (
        side.reps.select("rep_id", "workload_index")
        .unique("rep_id", keep="first")
        .join(change, on="rep_id", how="left")
        .select(
            "rep_id",
            workload=pl.col("workload_index").fill_null(0.0) + pl.col("change").fill_null(0.0),
        )
    )


def fairness(side: Side, load: pl.DataFrame) -> pl.DataFrame:
    """Per territory of the side's plan: its available members, their mean workload and the
    largest deviation of a member's workload from that mean."""
    available = side.reps.filter(pl.col("is_available")).select("rep_id")
    members = (
        side.members.select("territory_id", "rep_id")
        .unique()
        .join(available, on="rep_id", how="semi")
        .join(load, on="rep_id", how="left")
        .with_columns(pl.col("workload").fill_null(0.0))
        .with_columns(mean=pl.col("workload").mean().over("territory_id"))
        .group_by("territory_id")
        .agg(
            members=pl.len().cast(pl.Int64),
            mean_workload=pl.col("mean").first(),
            max_deviation=(pl.col("workload") - pl.col("mean")).abs().max(),
        )
    )
    return (
        side.territories.select("territory_id")
        .unique()
        .join(members, on="territory_id", how="left")
        .with_columns(pl.col("members").fill_null(0))
    )


def _counts(moves: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
    return (
        moves.filter(pl.col(key).is_not_null())
        .group_by(pl.col(key).alias("id"))
        .agg(pl.len().cast(pl.Int64).alias(name))
    )


def _differs(before: str, after: str) -> pl.Expr:
    return (pl.col(before).fill_null(0.0) - pl.col(after).fill_null(0.0)).abs() >= _EPSILON


def per_rep(moves: pl.DataFrame, before: Side, after: Side) -> pl.DataFrame:
    """Reps who gain or lose records, or whose workload changes."""
    roster = pl.concat(
        [
            after.reps.select("rep_id", "rep_name", "team"),
            before.reps.select("rep_id", "rep_name", "team"),
        ]
    ).unique("rep_id", keep="first")
    return (
        roster.join(
            workload(before).rename({"workload": "workload_before"}), on="rep_id", how="left"
        )
        .join(workload(after).rename({"workload": "workload_after"}), on="rep_id", how="left")
        .join(
            _counts(moves, "to_owner_id", "records_in"), left_on="rep_id", right_on="id", how="left"
        )
        .join(
            _counts(moves, "from_owner_id", "records_out"),
            left_on="rep_id",
            right_on="id",
            how="left",
        )
        .with_columns(
            pl.col("records_in", "records_out").fill_null(0),
            pl.col("workload_before", "workload_after").fill_null(0.0),
        )
        .with_columns(workload_change=pl.col("workload_after") - pl.col("workload_before"))
        .filter(
            (pl.col("records_in") > 0)
            | (pl.col("records_out") > 0)
            | _differs("workload_before", "workload_after")
        )
        .with_columns(pl.col("workload_before", "workload_after", "workload_change").round(_PLACES))
        .sort(
            [
                pl.col("records_in") + pl.col("records_out"),
                pl.col("workload_change").abs(),
                "rep_id",
            ],
            descending=[True, True, False],
        )
        .select(PER_REP_SCHEMA.keys())
        .cast(PER_REP_SCHEMA)  # type: ignore[arg-type]
    )


def per_territory(moves: pl.DataFrame, before: Side, after: Side) -> pl.DataFrame:
    """Territories of either plan that gain or lose records, move records between their
    members, or whose members or workload change."""
    elsewhere = pl.col("from_territory_id").ne_missing(pl.col("to_territory_id"))
    within = moves.filter(~elsewhere & pl.col("to_territory_id").is_not_null())
    fair_before = fairness(before, workload(before))
    fair_after = fairness(after, workload(after))
    names = pl.concat(
        [
            after.territories.select("territory_id", "territory_name"),
            before.territories.select("territory_id", "territory_name"),
        ]
    ).unique("territory_id", keep="first")
    return (
        names.join(
            _counts(moves.filter(elsewhere), "to_territory_id", "records_in"),
            left_on="territory_id",
            right_on="id",
            how="left",
        )
        .join(
            _counts(moves.filter(elsewhere), "from_territory_id", "records_out"),
            left_on="territory_id",
            right_on="id",
            how="left",
        )
        .join(
            _counts(within, "to_territory_id", "moved_within"),
            left_on="territory_id",
            right_on="id",
            how="left",
        )
        .join(
            fair_before.select(
                "territory_id",
                members_before="members",
                mean_workload_before="mean_workload",
                max_deviation_before="max_deviation",
            ),
            on="territory_id",
            how="left",
        )
        .join(
            fair_after.select(
                "territory_id",
                members_after="members",
                mean_workload_after="mean_workload",
                max_deviation_after="max_deviation",
            ),
            on="territory_id",
            how="left",
        )
        .with_columns(
            pl.col(
                "records_in", "records_out", "moved_within", "members_before", "members_after"
            ).fill_null(0)
        )
        .filter(
            (pl.col("records_in") + pl.col("records_out") + pl.col("moved_within") > 0)
            | (pl.col("members_before") != pl.col("members_after"))
            | _differs("mean_workload_before", "mean_workload_after")
            | _differs("max_deviation_before", "max_deviation_after")
        )
        .with_columns(
            pl.col(
                "mean_workload_before",
                "mean_workload_after",
                "max_deviation_before",
                "max_deviation_after",
            ).round(_PLACES)
        )
        .sort(
            [pl.col("records_in") + pl.col("records_out") + pl.col("moved_within"), "territory_id"],
            descending=[True, False],
        )
        .select(PER_TERRITORY_SCHEMA.keys())
        .cast(PER_TERRITORY_SCHEMA)  # type: ignore[arg-type]
    )


def newly_overflowing(before: pl.DataFrame, after: pl.DataFrame) -> list[str]:
    """Reps overflowing in ``after`` that were not in ``before`` (rep_state frames)."""
    was = before.filter(pl.col("is_overflowing").fill_null(False)).select("rep_id")
    return (
        after.filter(pl.col("is_overflowing").fill_null(False))
        .join(was, on="rep_id", how="anti")
        .get_column("rep_id")
        .unique()
        .sort()
        .to_list()
    )


def compare(
    before: Side,
    after: Side,
    waiting: pl.DataFrame | None = None,
    names: pl.DataFrame | None = None,
) -> PlanDiff:
    """The new side's outcome against the current one's. ``waiting`` (WAITING_SCHEMA): where
    records sitting in a queue wait, for a side that does not decide them again;
    ``names`` (NAMES_SCHEMA): what each record is called."""
    records = moved_records(
        before, after, waiting if waiting is not None else pl.DataFrame(schema=WAITING_SCHEMA)
    )
    moves = _named(
        records.filter("moved").drop("moved"),
        before,
        after,
        names if names is not None else pl.DataFrame(schema=NAMES_SCHEMA),
    )
    return PlanDiff(
        moves=moves,
        per_territory=per_territory(moves, before, after),
        per_rep=per_rep(moves, before, after),
        decided=records.height,
        conflicts_before=before.conflicts.height,
        conflicts_after=after.conflicts.height,
        overflow_before=before.overflow,
        overflow_after=after.overflow,
        newly_overflowing=newly_overflowing(before.rep_state, after.rep_state),
    )


# ---------------------------------------------------------------- the page


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:78rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
p.headline{font-size:1.05rem;background:#f3f5f9;padding:.75rem 1rem;border-radius:6px}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border-bottom:1px solid #dde2ea;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f5f9;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.up{color:#a33}td.down{color:#286a3a}p.empty,p.note,dl{color:#5a6372}
dt{font-weight:600;float:left;clear:left;width:10rem}dd{margin-left:10.5rem}
"""

_HEADINGS = {
    "record_type": "record",
    "record_id": "id",
    "record_name": "name",
    "from_owner_id": "from owner",
    "from_owner_name": "",
    "from_queue": "from queue",
    "to_owner_id": "to owner",
    "to_owner_name": "",
    "to_queue": "to queue",
    "from_rule": "from rule",
    "to_rule": "to rule",
    "from_territory_id": "from territory",
    "from_territory_name": "",
    "to_territory_id": "to territory",
    "to_territory_name": "",
}


def _cell(value: object, column: str) -> str:
    if value is None:
        return "<td>—</td>"
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = f"{value:,.{_PLACES}f}" if isinstance(value, float) else f"{value:,}"
        change = column.endswith("_change")
        kind = " up" if change and value > 0 else " down" if change and value < 0 else ""
        return f'<td class="n{kind}">{"+" if change and value > 0 else ""}{text}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def html_table(frame: pl.DataFrame, table_id: str) -> str:
    if frame.is_empty():
        return f'<p class="empty" id="{table_id}">None.</p>'
    head = "".join(
        f"<th>{html.escape(_HEADINGS.get(c, c.replace('_', ' ')))}</th>" for c in frame.columns
    )
    body = "".join(
        "<tr>" + "".join(_cell(v, c) for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
        for row in frame.iter_rows()
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(diff: PlanDiff, *, title: str, facts: dict[str, str]) -> str:
    """The what-if as one page: headline, what was compared (``facts``), per territory,
    per rep and the first PAGE_MOVES moves."""
    listed = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items()
    )
    overflowing = (
        f'<p class="note">Reps who would newly stop taking records (over high '
        f"water): {html.escape(', '.join(diff.newly_overflowing))}</p>"
        if diff.newly_overflowing
        else ""
    )
    shown = diff.moves.head(PAGE_MOVES)
    more = (
        f'<p class="note">The first {PAGE_MOVES:,} of {diff.moves.height:,}; moves.csv '
        "beside this page lists them all.</p>"
        if diff.moves.height > PAGE_MOVES
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="headline" id="headline">{html.escape(diff.headline())}</p>
<dl>{listed}</dl>
<h2>Per territory</h2>
<p class="note">Records in and out of the territory, records moved between its members, and
its available members' workload index: the mean and the largest deviation from it (0 is
perfectly even), before (the current config) and after (the new one).</p>
{html_table(diff.per_territory, "per-territory")}
<h2>Per rep</h2>
<p class="note">Records the rep would gain and lose, and the rep's workload index with each
config's decisions applied (100 = at capacity).</p>
{html_table(diff.per_rep, "per-rep")}
{overflowing}
<h2>Records that would move ({diff.moves.height:,})</h2>
{more}
{html_table(shown, "moves")}
</body></html>
"""
