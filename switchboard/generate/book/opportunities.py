"""Opportunities and activities on the accounts: pipeline (open and closed, the leaver's
and Acme's), and the calls, e-mails and meetings reps logged in the last 30 days.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from switchboard.generate.book.base import _Base
from switchboard.generate.stories import REP_LEAVER, story_opportunities
from switchboard.generate.vectors import _DAY, _HOUR, _ago, _concat, _pick
from switchboard.generate.vocabulary import (
    _ACTIVITY_P,
    _ACTIVITY_TYPES,
    _CLOSED_STAGES,
    _OPEN_STAGE_P,
    _OPEN_STAGES,
)
from switchboard.generate.write import _conform


class _Opportunities(_Base):
    """Opportunities (drawn before the accounts frame: it needs to know who has pipeline)
    and activities."""

    def opportunities(self) -> pl.DataFrame:
        """~15% of accounts with opportunities, ~40% of those open; the leaver's pipeline."""
        rng, st = self.rng, self.staff
        in_pool = np.ones(self.n_old, dtype=bool)
        in_pool[self.leaver_rows] = False
        pool = np.flatnonzero(in_pool)
        with_opps = np.sort(rng.choice(pool, round(0.15 * len(pool)), replace=False))
        is_open = rng.random(len(with_opps)) < 0.40
        closed = rng.poisson(0.7, len(with_opps)) + (~is_open)
        # the leaver: open pipeline on ~20% of the book, some closed history on the rest
        leaver_closed = rng.choice(self.leaver_rows, len(self.leaver_rows) // 3, replace=False)
        acc = np.concatenate(
            [with_opps[is_open], np.repeat(with_opps, closed), self.leaver_pipeline, leaver_closed]
        )
        opened = np.concatenate(
            [
                np.ones(is_open.sum(), bool),
                np.zeros(closed.sum(), bool),
                np.ones(len(self.leaver_pipeline), bool),
                np.zeros(len(leaver_closed), bool),
            ]
        )
        leaver = np.zeros(len(acc), bool)
        leaver[-(len(self.leaver_pipeline) + len(leaver_closed)) :] = True
        order = np.lexsort((~opened, acc))
        acc, opened, leaver = acc[order], opened[order], leaver[order]
        n = len(acc)
        account_owner = self.owner[acc]
        other = self.owners_for(self.territory[acc])
        mismatch = opened & (rng.random(n) < 0.04)
        historical = ~opened & (rng.random(n) < 0.20)
        owner = np.where((account_owner < 0) | mismatch | historical, other, account_owner)
        owner[leaver] = st.story[REP_LEAVER]
        seg = self.seg[acc]
        median = np.array([160_000.0, 45_000.0, 12_000.0])[seg]
        amount = np.round(rng.lognormal(np.log(median), 0.6), -2)
        stage = np.where(
            opened,
            rng.choice(len(_OPEN_STAGES), size=n, p=_OPEN_STAGE_P),
            len(_OPEN_STAGES) + (rng.random(n) >= 0.45),
        )
        account_age = self.age[acc]
        created = np.where(
            opened, rng.uniform(3 * _DAY, 200 * _DAY, n), rng.uniform(60 * _DAY, 1000 * _DAY, n)
        )
        created = np.minimum(created, account_age - _HOUR)
        closed_age = np.maximum(created - rng.uniform(10 * _DAY, 150 * _DAY, n), created * 0.1)
        self.has_open = np.zeros(self.g, dtype=bool)
        self.has_open[acc[opened]] = True
        self.has_opp = np.zeros(self.g, dtype=bool)
        self.has_opp[acc] = True
        width = max(7, len(str(n)))
        generic = pl.DataFrame(
            {
                "opportunity_id": _concat(
                    "OPP-", pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
                ),
                "account_id": self.account_ids.gather(acc),
                "owner_id": _pick(st.ids, owner),
                "stage": _pick(_OPEN_STAGES + _CLOSED_STAGES, stage),
                "is_closed": ~opened,
                "amount": amount,
                "created_at": _ago(self.now, created),
                "closed_at": np.where(
                    opened, np.datetime64("NaT", "us"), _ago(self.now, closed_age)
                ),
            }
        )
        story = story_opportunities(self.now)
        return pl.concat([_conform(story, "opportunities"), _conform(generic, "opportunities")])

    def activities_frame(self) -> pl.DataFrame:
        """Calls, e-mails and meetings of the last 30 days: on ~20% of the owned accounts,
        1 + Poisson(1.5) each; with ``activities_per_account``, on every owned account, that
        many per account of the whole book on average."""
        rng, st = self.rng, self.staff
        is_owned = self.owner[: self.n_old] >= 0
        is_owned[self.bad_rows] = False
        owned = np.flatnonzero(is_owned)
        if self.activities_per_account is None:
            sample = np.sort(rng.choice(owned, round(0.2 * len(owned)), replace=False))
            counts = 1 + rng.poisson(1.5, len(sample))
        else:  # every owned account, as many in all as the rate times the accounts
            sample = owned
            rate = self.activities_per_account * self.n_accounts / max(len(owned), 1)
            counts = rng.poisson(rate, len(sample))
        acc = np.repeat(sample, counts)
        n = len(acc)
        rep = np.where(rng.random(n) < 0.9, self.owner[acc], self.owners_for(self.territory[acc]))
        age = np.minimum(rng.uniform(10 * 60, 30 * _DAY, n), self.age[acc])
        order = np.lexsort((-age, acc))
        frame = pl.DataFrame(
            {
                "account_id": self.account_ids.gather(acc[order]),
                "rep_id": _pick(st.ids, rep[order]),
                "occurred_at": _ago(self.now, age[order]),
                "type": _pick(_ACTIVITY_TYPES, rng.choice(len(_ACTIVITY_TYPES), n, p=_ACTIVITY_P)),
            }
        )
        return _conform(frame, "activities")
