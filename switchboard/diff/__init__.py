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

from switchboard.diff.comparison import (
    compare,
    fairness,
    moved_records,
    newly_overflowing,
    per_rep,
    per_territory,
    workload,
)
from switchboard.diff.model import (
    KEPT,
    KEYS,
    MOVES_SCHEMA,
    NAMES_SCHEMA,
    PER_REP_SCHEMA,
    PER_TERRITORY_SCHEMA,
    REPS_SCHEMA,
    WAITING_SCHEMA,
    PlanDiff,
    Side,
)
from switchboard.diff.page import PAGE_MOVES, STYLE, html_table, render_html

__all__ = [
    "KEPT",
    "KEYS",
    "MOVES_SCHEMA",
    "NAMES_SCHEMA",
    "PAGE_MOVES",
    "PER_REP_SCHEMA",
    "PER_TERRITORY_SCHEMA",
    "REPS_SCHEMA",
    "STYLE",
    "WAITING_SCHEMA",
    "PlanDiff",
    "Side",
    "compare",
    "fairness",
    "html_table",
    "moved_records",
    "newly_overflowing",
    "per_rep",
    "per_territory",
    "render_html",
    "workload",
]
