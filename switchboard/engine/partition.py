"""Independent groups of records: a run decided group by group equals the whole run.

docs/ARCHITECTURE.md ("Two executors"). Two records must be decided together when one's
decision can change the other's: they could land on the same rep, or one changes the load
a rep starts the territory placement with. The engine's couplings, and the *nodes* that
stand for them:

* a territory (``t:<territory_id>``): every territory a record matches (its own matches
  and, for a lead, its account's) and, for a lead past its first-touch SLA, the
  territory it was routed through. Placement hands out a territory's headroom and its
  round-robin turns in record order; lead groups (skills, SLA exclusions) are parts of
  their territory;
* a rep (``r:<rep_id>``): the reps a rule before the territory may give the record
  (owners of open opportunities on its account, named owners of the account, its parent
  and ultimate parent, and for a lead the account's owner): their load counts before the
  territory places anything;
* every member of a territory is joined to the territory, and a territory's rank among
  the ones sharing a rep decides who draws first, so territories sharing a member are one
  group;
* a lead joins the account it matched (it follows the account when this run decides it):
  it carries the account's nodes, and an account with no other node is ``a:<account_id>``.

A record with no node at all is a group of its own. The groups are the connected
components of this graph, whose nodes are territories, reps and the few accounts without
either: small, so the components are found by a union-find on one machine and records
get their group by joins (the Spark executor does the same with Spark joins,
switchboard.spark.route).

What is not per group, and how the parts are put together (`combine`): ``rep_state``
renumbers every rep's round-robin place, so it is computed once from the reps and the
parts' summed gains (router.rep_state_after); ``round_robin`` has a row for every
round-robin territory in every part, of which the part holding the territory's group is
the one that moved it. Everything else is per record or per territory and is
concatenated, then put in the engine's documented order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine.eligibility import REPAIRS_ONLY, Selection
from switchboard.engine.inputs import FRAME_COLUMNS, EngineInputs, empty_frame
from switchboard.engine.router import EngineResult, gains, rep_state_after, route
from switchboard.engine.schema import CONFLICTS, DECISIONS, REP_STATE, ROUND_ROBIN

GROUP = "group_id"
KEYS = ["record_type", "record_id"]

# The inputs split by group (one row goes to the groups that read it); the others are
# small (per rep or per territory) and every group reads them whole.
RECORD_FRAMES = ("accounts", "leads", "opportunities", "territory_matches", "sla_clocks")
SHARED_FRAMES = tuple(
    name for name in FRAME_COLUMNS if name not in RECORD_FRAMES
)  # reps, members, workload, state, named accounts, recent assignments, rotations

# Per part: what the part gave each rep (router.gains).
GAINS: dict[str, pl.DataType] = {"rep_id": pl.String(), "accounts": pl.Int64(), "leads": pl.Int64()}


def _node(prefix: str, column: str) -> pl.Expr:
    return pl.concat_str([pl.lit(prefix), pl.col(column)])


def record_nodes(inputs: EngineInputs) -> pl.LazyFrame:
    """Every account and lead with the nodes it touches (record_type, record_id, node);
    each record has at least one row (see the module docstring)."""
    data = inputs.normalised()
    accounts = data.accounts.select(
        "account_id", "owner_id", "parent_account_id", "ultimate_parent_account_id"
    ).unique("account_id", keep="first")
    named = data.named_accounts.filter(pl.col("owner_id").is_not_null()).select(
        key="account_id", node=_node("r:", "owner_id")
    )
    # The reps an account key (an account's id, a lead's matched account) couples with.
    key_reps = pl.concat(
        [
            data.opportunities.filter(pl.col("owner_id").is_not_null()).select(
                account_key="account_id", node=_node("r:", "owner_id")
            ),
            named.rename({"key": "account_key"}),
            *(
                accounts.select(account_key="account_id", key=column)
                .join(named, on="key")
                .select("account_key", "node")
                for column in ("parent_account_id", "ultimate_parent_account_id")
            ),
        ]
    )
    matches = data.territory_matches.filter(pl.col("territory_id").is_not_null()).select(
        "record_type", "record_id", node=_node("t:", "territory_id")
    )
    own_accounts = pl.concat(
        [
            matches.filter(pl.col("record_type") == "account").select(
                account_key="record_id", node="node"
            ),
            key_reps,
        ]
    ).join(accounts.select(account_key="account_id"), on="account_key", how="semi")
    account_nodes = (
        accounts.select(account_key="account_id")
        .join(own_accounts, on="account_key", how="left")
        .select("account_key", node=pl.coalesce("node", _node("a:", "account_key")))
        .unique()
    )
    leads = data.leads.select(record_id="lead_id", account_key="matched_account_id")
    lead_nodes = pl.concat(
        [
            matches.filter(pl.col("record_type") == "lead").select("record_id", "node"),
            data.sla_clocks.filter(pl.col("territory_id").is_not_null()).select(
                record_id="lead_id", node=_node("t:", "territory_id")
            ),
            leads.join(key_reps, on="account_key").select("record_id", "node"),
            leads.join(account_nodes, on="account_key").select("record_id", "node"),
            leads.join(
                accounts.filter(pl.col("owner_id").is_not_null()).select(
                    account_key="account_id", node=_node("r:", "owner_id")
                ),
                on="account_key",
            ).select("record_id", "node"),
        ]
    )
    every_lead = (
        leads.select("record_id")
        .unique()
        .join(lead_nodes, on="record_id", how="left")
        .select("record_id", node=pl.coalesce("node", _node("l:", "record_id")))
    )
    return pl.concat(
        [
            account_nodes.select(
                record_type=pl.lit("account"), record_id="account_key", node="node"
            ),
            every_lead.select(record_type=pl.lit("lead"), record_id="record_id", node="node"),
        ]
    ).unique()


def node_edges(nodes: pl.LazyFrame, members: pl.LazyFrame) -> pl.LazyFrame:
    """The graph's distinct edges (a, b): each record's nodes tied to its smallest one,
    and each territory member to the territory."""
    first = nodes.group_by(KEYS).agg(first=pl.col("node").min())
    return pl.concat(
        [
            nodes.join(first, on=KEYS)
            .filter(pl.col("node") != pl.col("first"))
            .select(a="first", b="node"),
            members.filter(
                pl.col("territory_id").is_not_null() & pl.col("rep_id").is_not_null()
            ).select(a=_node("t:", "territory_id"), b=_node("r:", "rep_id")),
        ]
    ).unique()


def components(edges: pl.DataFrame) -> pl.DataFrame:
    """Union-find over the graph's edges (a small table: its nodes are territories, reps
    and accounts without either): node, group_id (the smallest node of the component).
    A node on no edge is its own group and is not listed."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        root = node
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    for a, b in edges.select("a", "b").iter_rows():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    nodes = list(parent)
    return pl.DataFrame(
        {"node": nodes, GROUP: [find(n) for n in nodes]},
        schema={"node": pl.String(), GROUP: pl.String()},
    )


def node_groups(nodes: pl.LazyFrame, groups: pl.LazyFrame) -> pl.LazyFrame:
    """Group of each node in ``nodes`` (a ``node`` column): its component, or itself."""
    return nodes.join(groups, on="node", how="left").with_columns(
        pl.coalesce(GROUP, "node").alias(GROUP)
    )


@dataclass(frozen=True)
class Groups:
    """Every record's, rep's and territory's group (``group_id``)."""

    records: pl.DataFrame  # record_type, record_id, group_id
    reps: pl.DataFrame  # rep_id, group_id
    territories: pl.DataFrame  # territory_id, group_id


def assign_groups(inputs: EngineInputs) -> Groups:
    """The group of every account, lead, rep and territory of ``inputs``."""
    data = inputs.normalised()
    nodes = record_nodes(data).collect(engine="in-memory")
    graph = components(node_edges(nodes.lazy(), data.territory_members).collect())
    records = (
        nodes.lazy()
        .group_by(KEYS)
        .agg(node=pl.col("node").min())
        .pipe(node_groups, graph.lazy())
        .select(*KEYS, GROUP)
        .sort(KEYS)
        .collect()
    )
    reps = (
        pl.concat([data.reps.select("rep_id"), data.territory_members.select("rep_id")])
        .drop_nulls()
        .unique()
        .with_columns(node=_node("r:", "rep_id"))
        .pipe(node_groups, graph.lazy())
        .select("rep_id", GROUP)
        .sort("rep_id")
        .collect()
    )
    territories = (
        pl.concat(
            [
                data.territory_matches.select("territory_id"),
                data.territory_members.select("territory_id"),
            ]
        )
        .drop_nulls()
        .unique()
        .with_columns(node=_node("t:", "territory_id"))
        .pipe(node_groups, graph.lazy())
        .select("territory_id", GROUP)
        .sort("territory_id")
        .collect()
    )
    return Groups(records=records, reps=reps, territories=territories)


def tag_frames(data: EngineInputs, groups: Groups) -> dict[str, pl.DataFrame]:
    """The record-scale inputs (RECORD_FRAMES, and the scope) with a ``group_id`` column:
    accounts and leads by their group, opportunities to every group with a record on
    their account, territory matches by their territory's group, clocks by their lead's."""
    records = groups.records.lazy()
    account_groups = records.filter(pl.col("record_type") == "account").select(
        account_id="record_id", group_id=GROUP
    )
    lead_groups = records.filter(pl.col("record_type") == "lead").select(
        lead_id="record_id", group_id=GROUP
    )
    keyed = pl.concat(
        [
            account_groups,
            data.leads.select("lead_id", account_id="matched_account_id")
            .join(lead_groups, on="lead_id")
            .select("account_id", GROUP),
        ]
    ).unique()
    tagged = {
        "accounts": data.accounts.join(account_groups, on="account_id"),
        "leads": data.leads.join(lead_groups, on="lead_id"),
        "opportunities": data.opportunities.join(keyed, on="account_id"),
        "territory_matches": data.territory_matches.join(
            groups.territories.lazy(), on="territory_id"
        ),
        "sla_clocks": data.sla_clocks.join(lead_groups, on="lead_id"),
    }
    if data.scope is not None:
        tagged["scope"] = data.scope.join(records, on=KEYS)
    return {name: frame.collect(engine="in-memory") for name, frame in tagged.items()}


def part_inputs(
    data: EngineInputs, tagged: dict[str, pl.DataFrame], group_ids: Collection[str]
) -> EngineInputs:
    """The inputs of a part (one or more whole groups): its rows of the record-scale
    inputs, every row of the shared ones."""
    wanted = pl.col(GROUP).is_in(list(group_ids))
    frames: dict[str, pl.LazyFrame] = {
        name: tagged[name].lazy().filter(wanted).drop(GROUP) for name in RECORD_FRAMES
    }
    for name in SHARED_FRAMES:
        frames[name] = getattr(data, name)
    scope = tagged["scope"].lazy().filter(wanted).drop(GROUP) if "scope" in tagged else None
    return EngineInputs(**frames, scope=scope)


@dataclass(frozen=True)
class PartResult:
    """What one part (whole groups) decided: its rows of the per-record and per-territory
    outputs, its rows of round_robin (the territories of its groups) and its gains."""

    decisions: pl.DataFrame
    conflicts: pl.DataFrame
    skill_gaps: pl.DataFrame
    sla_breaches: pl.DataFrame
    round_robin: pl.DataFrame
    gains: pl.DataFrame
    records: int
    seconds: float


def route_part(
    inputs: EngineInputs,
    config: RoutingConfig,
    *,
    territories: Collection[str],
    run_id: str,
    as_of: datetime,
    selection: Selection = REPAIRS_ONLY,
    leaver_rep_ids: Sequence[str] = (),
) -> PartResult:
    """`route` on the inputs of whole groups (`part_inputs`); ``territories`` are the
    territories of those groups, whose round_robin rows this part reports."""
    started = time.perf_counter()
    result = route(
        inputs,
        config,
        run_id=run_id,
        as_of=as_of,
        selection=selection,
        leaver_rep_ids=leaver_rep_ids,
    )
    records = inputs.accounts.select(pl.len()).collect().item() + (
        inputs.leads.select(pl.len()).collect().item()
    )
    return PartResult(
        decisions=result.decisions,
        conflicts=result.conflicts,
        skill_gaps=result.skill_gaps,
        sla_breaches=result.sla_breaches,
        round_robin=result.round_robin.filter(pl.col("territory_id").is_in(list(territories))),
        gains=gains(result.decisions).collect().cast(GAINS),  # type: ignore[arg-type]
        records=records,
        seconds=time.perf_counter() - started,
    )


def empty_part(data: EngineInputs) -> EngineInputs:
    """The shared inputs with no records: routing it gives the rotations nobody moved."""
    frames: dict[str, pl.LazyFrame] = {name: empty_frame(name) for name in RECORD_FRAMES}
    for name in SHARED_FRAMES:
        frames[name] = getattr(data, name)
    return EngineInputs(**frames)


def record_order(data: EngineInputs) -> pl.LazyFrame:
    """The engine's record order (record_type, record_id, created_at): the decisions are
    sorted by (created_at, record_type, record_id), a missing created_at first."""
    return pl.concat(
        [
            data.accounts.select(
                record_type=pl.lit("account"), record_id="account_id", created_at="created_at"
            ),
            data.leads.select(
                record_type=pl.lit("lead"), record_id="lead_id", created_at="created_at"
            ),
        ]
    ).unique(KEYS, keep="first")


def _in_order(frame: pl.DataFrame, order: pl.LazyFrame, then: Sequence[str] = ()) -> pl.LazyFrame:
    return (
        frame.lazy()
        .join(order, on=KEYS, how="left")
        .sort(
            "created_at", "record_type", "record_id", *then, nulls_last=False, maintain_order=True
        )
    )


def combine(
    parts: Iterable[PartResult],
    data: EngineInputs,
    config: RoutingConfig,
    *,
    baseline: EngineResult,
    as_of: datetime,
    leaver_rep_ids: Sequence[str] = (),
) -> EngineResult:
    """One EngineResult from the parts of a run, in the engine's documented order.

    ``baseline`` is `route` of `empty_part`: its round_robin stands for the territories
    no part holds. ``rep_state`` is computed once from every part's gains.
    """
    parts = list(parts)
    order = record_order(data)

    def stacked(name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        frames = [getattr(p, name) for p in parts]
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)

    decisions = (
        _in_order(stacked("decisions", DECISIONS), order)
        .select(list(DECISIONS))
        .collect(engine="in-memory")
    )
    conflicts = (
        _in_order(stacked("conflicts", CONFLICTS), order, ["conflict_type"])
        .select(list(CONFLICTS))
        .collect(engine="in-memory")
    )
    breaches = [p.sla_breaches for p in parts]
    sla_breaches = (
        _in_order(pl.concat(breaches).with_columns(record_type=pl.lit("lead")), order)
        .select(baseline.sla_breaches.columns)
        .collect()
        if breaches
        else baseline.sla_breaches
    )
    skill_gaps = pl.concat([baseline.skill_gaps, *(p.skill_gaps for p in parts)]).sort(
        "territory_id", "skill", maintain_order=True
    )
    moved = pl.concat([baseline.round_robin.clear(), *(p.round_robin for p in parts)])
    round_robin = pl.concat(
        [moved, baseline.round_robin.join(moved, on="territory_id", how="anti")]
    ).sort("territory_id")
    total = (
        pl.concat([pl.DataFrame(schema=GAINS), *(p.gains for p in parts)])
        .group_by("rep_id")
        .agg(pl.col("accounts").sum(), pl.col("leads").sum())
    )
    rep_state = rep_state_after(
        data, total.lazy(), config, as_of=as_of, leaver_rep_ids=leaver_rep_ids
    )
    return EngineResult(
        decisions=decisions,
        conflicts=conflicts,
        rep_state=rep_state.select(list(REP_STATE)),
        round_robin=round_robin.select(list(ROUND_ROBIN)),
        skill_gaps=skill_gaps,
        sla_breaches=sla_breaches,
    )


def group_parts(groups: Groups, parts: int | None = None) -> Iterator[list[str]]:
    """The group ids of the records, one list per part: each group alone (``parts``
    None), or the groups spread over ``parts`` parts by a hash of their id."""
    ids = groups.records[GROUP].unique().sort()
    if parts is None:
        yield from ([g] for g in ids.to_list())
        return
    buckets = pl.DataFrame({GROUP: ids}).with_columns(
        part=pl.col(GROUP).hash(seed=0) % max(parts, 1)
    )
    for _, frame in buckets.group_by("part", maintain_order=True):
        yield frame[GROUP].to_list()


def route_by_group(
    inputs: EngineInputs,
    config: RoutingConfig,
    *,
    run_id: str,
    as_of: datetime,
    selection: Selection = REPAIRS_ONLY,
    leaver_rep_ids: Sequence[str] = (),
    parts: int | None = None,
    on_part: Callable[[list[str], PartResult], None] | None = None,
) -> EngineResult:
    """`route` decided group by group (or ``parts`` parts of whole groups) and combined;
    equal to ``route(inputs, ...)`` (tests/unit/engine/test_partition.py)."""
    data = inputs.normalised()
    groups = assign_groups(data)
    tagged = tag_frames(data, groups)
    options = {
        "run_id": run_id,
        "as_of": as_of,
        "selection": selection,
        "leaver_rep_ids": leaver_rep_ids,
    }
    results: list[PartResult] = []
    for group_ids in group_parts(groups, parts):
        territories = groups.territories.filter(pl.col(GROUP).is_in(group_ids))["territory_id"]
        part = route_part(
            part_inputs(data, tagged, group_ids),
            config,
            territories=territories.to_list(),
            **options,  # type: ignore[arg-type]
        )
        if on_part is not None:
            on_part(group_ids, part)
        results.append(part)
    baseline = route(empty_part(data), config, **options)  # type: ignore[arg-type]
    return combine(
        results, data, config, baseline=baseline, as_of=as_of, leaver_rep_ids=leaver_rep_ids
    )
