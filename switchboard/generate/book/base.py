"""The builder's shared state, and the territory resolution every entity step uses: the
territory that wins a record (ranked by the engine's own tie-break), a member of it to own
the record, and cells to seat a story's records in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import polars as pl

from switchboard.config import RoutingConfig
from switchboard.engine.territory import territory_table
from switchboard.generate.defects import _BadAccounts
from switchboard.generate.geography import _geo
from switchboard.generate.plan import _plan, _Territory
from switchboard.generate.staff import _staff
from switchboard.generate.vectors import _choice, _sample_members
from switchboard.generate.vocabulary import INDUSTRIES, _Names


def _tiebreak_order(territories: Sequence[_Territory]) -> np.ndarray:
    """Each territory's place in the engine's tie-break (0 wins), for records no open
    opportunity ties to a territory: the engine's own ranks (`territory_table`) of the
    plan's territories under routing.yml's default `territory_tiebreak`.

    Only `opportunity_territory` depends on the record; the keys before and after it
    (`prefix_rank`, `suffix_rank`) are properties of the territory, and territory_id
    always closes the order, so the two ranks order the territories completely.
    """
    plan = pl.DataFrame(
        {
            "territory_id": [t.territory_id for t in territories],
            "territory_name": [t.name for t in territories],
            "priority": [t.priority for t in territories],
            "specificity": [t.specificity for t in territories],
            "overflow_queue": [t.overflow_queue for t in territories],
        }
    )
    ranked = (
        territory_table(plan.lazy(), RoutingConfig())
        .sort("prefix_rank", "suffix_rank")
        .select("territory_id", order=pl.int_range(pl.len(), dtype=pl.Int64))
    )
    return (
        plan.select("territory_id")
        .join(ranked, on="territory_id", how="left", maintain_order="left")["order"]
        .to_numpy()
    )


class _Base:
    """What every step may read: the plan, the staff and what earlier steps drew."""

    # accounts(): where the generated accounts (not the story ones) sit, what they are
    g: int  # generated accounts: n_old already in the book, then n_new new ones
    n_old: int
    n_new: int
    cell: np.ndarray
    seg: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray
    tier: np.ndarray
    age: np.ndarray  # seconds before the as-of
    territory: np.ndarray  # the winning territory; -1 where none matches
    owner: np.ndarray  # rep index; -1 for unowned
    designated: np.ndarray  # rows a story placed
    leaver_rows: np.ndarray
    leaver_pipeline: np.ndarray
    leave_new: np.ndarray
    over_new: np.ndarray
    account_ids: pl.Series
    names: _Names  # company names: the accounts', then unknown companies' for leads
    # rep_statuses()
    role: np.ndarray
    deactivated: np.ndarray
    role_changed: np.ndarray
    on_leave: np.ndarray
    inactive_reps: np.ndarray
    # named_and_parents()
    named: np.ndarray
    parent: np.ndarray  # parent account row; -1 for none
    root: np.ndarray  # top of the hierarchy; -1 for none
    # opportunities()
    has_open: np.ndarray
    has_opp: np.ndarray
    # pick_bad_accounts()
    bad: _BadAccounts
    bad_rows: np.ndarray
    # accounts_frame()
    account_base: pl.Series
    account_name: pl.Series
    account_host: pl.Series
    has_domain: np.ndarray
    # leads_frame()
    bad_lead: int
    # reps_frame()
    rep_email: np.ndarray

    def __init__(
        self,
        *,
        accounts: int,
        leads: int,
        reps: int,
        territories: int,
        seed: int,
        as_of: datetime,
        activities_per_account: float | None = None,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.activities_per_account = activities_per_account
        self.as_of = as_of
        self.now = np.datetime64(as_of.replace(microsecond=0), "s")
        self.n_accounts, self.n_leads = accounts, leads
        self.geo = _geo()
        self.plan = _plan(territories, self.geo)
        self.staff = _staff(self.plan, reps, self.geo, self.rng)
        self.t_order = _tiebreak_order(self.plan.territories)

    # -- territory resolution -----------------------------------------------------------

    def winners(
        self, cell: np.ndarray, seg: np.ndarray, industry: np.ndarray, employees: np.ndarray
    ) -> np.ndarray:
        """The territory the hierarchy would pick for each record (-1: none matches).

        Same order as the engine (`_tiebreak_order`): by default lowest priority number,
        most specific, territory_id.
        """
        geo = self.geo
        best = self.plan.lookup[cell, seg]
        key = np.where(best >= 0, self.t_order[best], np.iinfo(np.int64).max)
        for i, terr in enumerate(self.plan.territories):
            if terr.team >= 0:
                continue
            # Country and state are properties of the cell, industry of a small code list:
            # evaluate them on those tables, then index per record.
            cell_ok = np.ones(len(geo.p), dtype=bool)
            if terr.countries:
                cell_ok &= np.isin(geo.country, terr.countries)
            if terr.states:
                cell_ok &= np.isin(geo.state, terr.states)
            industry_ok = np.array(
                [not terr.industries or n in terr.industries for n in INDUSTRIES]
            )
            mask = cell_ok[cell] & industry_ok[industry]
            if terr.min_employees is not None:
                mask &= employees >= terr.min_employees
            if terr.max_employees is not None:
                mask &= employees <= terr.max_employees
            mine = self.t_order[i]
            better = mask & (mine < key)
            best = np.where(better, i, best)
            key = np.where(better, mine, key)
        return best

    def owners_for(self, territory: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """A member of each record's territory, drawn by member weight x rep factor."""
        st = self.staff
        weight = st.member_weight * (1.0 if factor is None else factor[st.member_rep])
        keep = weight > 0
        fallback = self.plan.teams[[t.region for t in self.plan.teams].index(4)].territories[0]
        territory = np.where(territory >= 0, territory, fallback)
        return _sample_members(
            self.rng, territory, st.member_territory[keep], st.member_rep[keep], weight[keep]
        )

    def cells_of(self, territory: int, n: int) -> np.ndarray:
        cells = self.plan.territories[territory].cells
        assert cells is not None
        return _choice(self.rng, cells, n, self.geo.p[cells])

    def story_members(self) -> np.ndarray:
        """Reps who work a story territory: kept free of side plots so the stories stay clear."""
        st = self.staff
        anchors = list(st.anchor_territory.values())
        return np.unique(st.member_rep[np.isin(st.member_territory, anchors)])
