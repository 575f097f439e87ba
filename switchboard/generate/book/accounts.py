"""The accounts: where each sits and what it is (cell, segment, industry, size, tier, age),
its territory and owner, the named list and the parent hierarchy, the rows left for bad
rows, and the accounts and named-accounts frames with the story accounts first.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from switchboard.generate.book.base import _Base
from switchboard.generate.defects import _BadAccounts
from switchboard.generate.geography import (
    _COUNTRIES,
    OUTSIDE,
    _postal_codes,
    _spelled_country,
    _spelled_state,
)
from switchboard.generate.stories import (
    REP_LEAVE,
    REP_LEAVER,
    REP_LIGHT,
    REP_OVER,
    STORY_NEW_ACCOUNTS,
    story_accounts,
    story_named_accounts,
)
from switchboard.generate.vectors import _DAY, _HOUR, _YEAR, _ago, _choice, _concat, _pick
from switchboard.generate.vocabulary import (
    _INDUSTRY_P,
    _INDUSTRY_REVENUE,
    _PLAIN_INDUSTRIES,
    _SEGMENT_P,
    _TIER_P,
    ENT,
    INDUSTRIES,
    MM,
    SMB,
    _company_names,
)
from switchboard.generate.write import _conform


class _Accounts(_Base):
    """Accounts, the named list and the hierarchy; which plain rows may be broken."""

    def accounts(self) -> None:
        rng, geo, st = self.rng, self.geo, self.staff
        g = self.n_accounts - 3  # three story accounts
        n_new = max(2 * STORY_NEW_ACCOUNTS + 2, min(self.n_accounts // 40, 5000))
        n_old = g - n_new
        leaver_book = min(max(40, self.n_accounts // 500), n_old // 3)
        # Rows whose story fixes where they are.
        old_perm = rng.permutation(n_old)
        self.leaver_rows = np.sort(old_perm[:leaver_book])
        new_perm = rng.permutation(n_new) + n_old
        self.leave_new = np.sort(new_perm[:STORY_NEW_ACCOUNTS])
        self.over_new = np.sort(new_perm[STORY_NEW_ACCOUNTS : 2 * STORY_NEW_ACCOUNTS])
        n_outside = max(1, n_new // 25)
        outside_new = new_perm[2 * STORY_NEW_ACCOUNTS : 2 * STORY_NEW_ACCOUNTS + n_outside]
        designated = np.zeros(g, dtype=bool)
        designated[np.concatenate([self.leaver_rows, new_perm[: 2 * STORY_NEW_ACCOUNTS]])] = True

        cell = rng.choice(len(geo.p), size=g, p=geo.p)
        seg = rng.choice(3, size=g, p=_SEGMENT_P)
        industry = rng.choice(len(INDUSTRIES), size=g, p=_INDUSTRY_P)
        stories = (
            (self.leaver_rows, st.anchor_territory[REP_LEAVER], MM),
            (self.leave_new, st.anchor_territory[REP_LEAVE], MM),
            (self.over_new, st.anchor_territory[REP_OVER], SMB),
        )
        for rows, story_territory, segment in stories:
            cell[rows] = self.cells_of(story_territory, len(rows))
            seg[rows] = segment
            industry[rows] = rng.choice(_PLAIN_INDUSTRIES, size=len(rows))
        outside_cells = np.flatnonzero(geo.region == OUTSIDE)
        cell[outside_new] = _choice(rng, outside_cells, len(outside_new), geo.p[outside_cells])

        u = rng.random(g)
        employees = np.select(
            [seg == SMB, seg == MM],
            [
                np.exp(np.log(2) + u * (np.log(200) - np.log(2))),
                np.exp(np.log(200) + u * (np.log(1000) - np.log(200))),
            ],
            1000 * (1 + rng.pareto(1.3, g)),
        )
        employees = np.clip(np.floor(employees), 1, 250_000).astype(np.int64)
        per_head = rng.lognormal(np.log(180_000), 0.45, g) * _INDUSTRY_REVENUE[industry]
        revenue = np.round(employees * per_head, -3)
        revenue[rng.random(g) < 0.04] = np.nan
        cum = np.cumsum(_TIER_P, axis=1)[seg]
        draw = rng.random(g)
        tier = 1 + (draw > cum[:, 0]).astype(np.int64) + (draw > cum[:, 1])
        age = np.concatenate(
            [
                np.sort(rng.uniform(2 * _DAY, 3 * _YEAR, n_old))[::-1],
                np.sort(rng.uniform(60, _HOUR - 60, n_new))[::-1],
            ]
        )

        territory = self.winners(cell, seg, industry, employees)
        factor = np.ones(st.n)
        factor[st.story[REP_OVER]] = 2.5
        factor[st.story[REP_LIGHT]] = 0.3
        factor[st.story[REP_LEAVER]] = 0.0  # the leaver's book is seated explicitly below
        owner = self.owners_for(territory, factor)
        owner[n_old:] = -1
        free = np.flatnonzero(~designated[:n_old])
        unowned = rng.choice(free, round(0.02 * n_old), replace=False)
        owner[unowned] = -1
        owner[self.leaver_rows] = st.story[REP_LEAVER]
        # The leaver's book: ~20% open pipeline (tier 1/2), ~30% tier 3, the rest tier 1/2.
        book = rng.permutation(self.leaver_rows)
        n_pipe, n_tier3 = round(0.2 * len(book)), round(0.3 * len(book))
        self.leaver_pipeline = np.sort(book[:n_pipe])
        tier[book] = rng.choice([1, 2], size=len(book), p=[0.35, 0.65])
        tier[book[n_pipe : n_pipe + n_tier3]] = 3

        self.g, self.n_old, self.n_new = g, n_old, n_new
        self.cell, self.seg, self.industry = cell, seg, industry
        self.employees, self.revenue, self.tier = employees, revenue, tier
        self.age, self.territory, self.owner = age, territory, owner
        self.designated = designated
        width = max(7, len(str(g)))
        self.account_ids = _concat(
            "ACC-", pl.Series(np.arange(1, g + 1)).cast(pl.String).str.zfill(width)
        )
        self.names = _company_names(rng, g + self.n_leads)

    def named_and_parents(self) -> None:
        """Named list, then subsidiaries: a few per cent of accounts, some two levels deep."""
        rng = self.rng
        st = self.staff
        invalid = np.zeros(st.n, dtype=bool)
        invalid[self.inactive_reps] = True
        old = np.arange(self.n_old)
        owned_ok = (self.owner[old] >= 0) & ~invalid[np.maximum(self.owner[old], 0)]
        eligible = old[owned_ok & ~self.designated[old]]
        n_named = min(max(1, round(0.01 * self.n_accounts) - 1), len(eligible) // 4)
        t1 = eligible[self.tier[eligible] == 1]
        t2 = eligible[self.tier[eligible] == 2]
        n1 = min(len(t1), round(n_named * 0.85))
        self.named = np.sort(
            np.concatenate(
                [
                    rng.choice(t1, n1, replace=False),
                    rng.choice(t2, min(len(t2), n_named - n1), replace=False),
                ]
            )
        )
        parent = np.full(self.g, -1, dtype=np.int64)
        free = ~self.designated.copy()
        free[self.n_old :] = False
        free[self.named] = False
        pool = np.flatnonzero(free)
        n_sub = round(0.025 * self.n_old)
        subs = rng.choice(pool, n_sub, replace=False)
        is_root = free & (self.seg == ENT)
        is_root[subs] = False
        is_root[self.named] = True
        roots = np.flatnonzero(is_root)
        n_level2 = max(1, n_sub // 12)
        level1, level2 = subs[n_level2:], subs[:n_level2]
        parent[level1] = rng.choice(roots, len(level1))
        parent[level2] = rng.choice(level1, len(level2))
        # New subsidiaries of named accounts exercise the named_parent rule beyond Globex.
        is_new_free = np.zeros(self.g, dtype=bool)
        is_new_free[self.n_old :] = True
        is_new_free[np.concatenate([self.leave_new, self.over_new])] = False
        new_free = np.flatnonzero(is_new_free)
        new_subs = rng.choice(new_free, max(1, len(new_free) // 16), replace=False)
        parent[new_subs] = rng.choice(self.named, len(new_subs))
        root = parent.copy()
        deep = (root >= 0) & (parent[np.maximum(root, 0)] >= 0)
        root[deep] = parent[root[deep]]
        self.parent, self.root = parent, root

    def pick_bad_accounts(self) -> None:
        """Plain rows only: not story, no pipeline, not in a hierarchy or on the named list."""
        plain = np.ones(self.g, dtype=bool)
        plain[self.n_old :] = False
        plain[self.designated] = False
        plain[self.has_opp] = False
        plain[self.named] = False
        plain[self.parent >= 0] = False
        plain[self.parent[self.parent >= 0]] = False
        plain[self.owner < 0] = False
        plain[self.geo.region[self.cell] == OUTSIDE] = False
        rows = self.rng.choice(np.flatnonzero(plain), 6, replace=False)
        self.bad = _BadAccounts(*(int(r) for r in rows))
        self.bad_rows = rows

    def accounts_frame(self) -> pl.DataFrame:
        rng, geo = self.rng, self.geo
        g = self.g
        names = self.names
        base = names.base.head(g)
        slug = names.slug.head(g)
        country = geo.country_idx[self.cell]
        forms = [v[3][i % len(v[3])] for v in _COUNTRIES.values() for i in range(3)]
        legal = _pick(forms, country * 3 + rng.integers(0, 3, g))
        tld_country = _pick([v[2] for v in _COUNTRIES.values()], country)
        tld = pl.select(
            pl.when(pl.lit(rng.random(g) < 0.5)).then(tld_country).otherwise(pl.lit("com"))
        ).to_series()
        # Subsidiaries carry their root's name and a country tag: "Bluestone Analytics UK Ltd".
        has_root = self.root >= 0
        root = np.maximum(self.root, 0)
        tag = _pick([v[4] for v in _COUNTRIES.values()], country)
        derived = (
            pl.DataFrame({"root": np.where(has_root, root, -1 - np.arange(g)), "country": country})
            .select(pl.struct("root", "country").is_first_distinct())
            .to_series()
            .to_numpy()
            & has_root
        )
        root_base, root_slug = base.gather(root), slug.gather(root)
        frame = (
            pl.DataFrame(
                {
                    "derived": derived,
                    "base": base,
                    "slug": slug,
                    "root_base": root_base,
                    "root_slug": root_slug,
                    "tag": tag,
                    "legal": legal,
                    "tld": tld,
                    "domain_style": _choice(
                        rng, np.arange(6), g, np.array([0.68, 0.10, 0.05, 0.04, 0.05, 0.08])
                    ),
                }
            )
            .with_columns(
                base=pl.when("derived")
                .then(pl.col("root_base") + " " + pl.col("tag"))
                .otherwise("base"),
                host=pl.when("derived")
                .then(
                    pl.col("root_slug")
                    + "-"
                    + pl.col("tag").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
                    + "."
                    + pl.col("tld")
                )
                .otherwise(pl.col("slug") + "." + pl.col("tld")),
            )
            .with_columns(
                name=pl.col("base") + " " + pl.col("legal"),
                domain=pl.when(pl.col("domain_style") == 1)
                .then("https://www." + pl.col("host"))
                .when(pl.col("domain_style") == 2)
                .then("https://www." + pl.col("host") + "/about")
                .when(pl.col("domain_style") == 3)
                .then("http://" + pl.col("host"))
                .when(pl.col("domain_style") == 4)
                .then("www." + pl.col("host"))
                .when(pl.col("domain_style") == 5)
                .then(None)
                .otherwise("host"),
            )
        )
        self.account_base = frame["base"]
        self.account_name = frame["name"]
        self.account_host = frame["host"]
        self.has_domain = (frame["domain_style"] != 5).to_numpy()
        st = self.staff
        generic = pl.DataFrame(
            {
                "account_id": self.account_ids,
                "name": frame["name"],
                "created_at": _ago(self.now, self.age),
                "domain": frame["domain"],
                "parent_account_id": pl.select(
                    pl.when(pl.lit(self.parent >= 0)).then(
                        self.account_ids.gather(np.maximum(self.parent, 0))
                    )
                ).to_series(),
                "country": _spelled_country(rng, country),
                "state": _spelled_state(rng, geo.state_idx[self.cell]),
                "postal_code": _postal_codes(rng, self.cell, geo),
                "industry": _pick(INDUSTRIES, self.industry),
                "employees": self.employees,
                "annual_revenue": pl.Series(self.revenue, nan_to_null=True),
                "tier": self.tier,
                "owner_id": pl.select(
                    pl.when(pl.lit(self.owner >= 0)).then(_pick(st.ids, np.maximum(self.owner, 0)))
                ).to_series(),
            }
        )
        story = story_accounts(self.now)
        return pl.concat([_conform(story, "accounts"), _conform(generic, "accounts")])

    def story_accounts_territories(self) -> tuple[int, int, int]:
        """Territories that win for Acme's account, Acme's lead and Globex Europe."""
        geo = self.geo
        cells = np.array(
            [
                int(np.flatnonzero((geo.country == "US") & (geo.prefix == "100"))[0]),
                int(np.flatnonzero((geo.country == "US") & (geo.prefix == "941"))[0]),
                int(np.flatnonzero((geo.country == "DE") & (geo.prefix == "6"))[0]),
            ]
        )
        picks = self.winners(
            cells,
            np.array([ENT, ENT, ENT]),
            np.array([INDUSTRIES.index(i) for i in ("Manufacturing", "Manufacturing", "Energy")]),
            np.array([5000, 5000, 1500]),
        )
        return int(picks[0]), int(picks[1]), int(picks[2])

    def named_frame(self) -> pl.DataFrame:
        st = self.staff
        generic = pl.DataFrame(
            {
                "account_id": self.account_ids.gather(self.named),
                "owner_id": _pick(st.ids, self.owner[self.named]),
                "tier": self.tier[self.named],
                "program": "Strategic",
            }
        )
        story = story_named_accounts()
        return pl.concat([_conform(story, "named_accounts"), _conform(generic, "named_accounts")])
