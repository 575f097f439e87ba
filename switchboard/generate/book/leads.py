"""The leads: people at known accounts (by e-mail domain or company name), at companies
nobody has yet, or on personal e-mail; their address, firmographics, age and owner; Acme's
story lead first.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from switchboard.generate.book.base import _Base
from switchboard.generate.geography import OUTSIDE, _postal_codes, _spelled_country, _spelled_state
from switchboard.generate.stories import story_leads
from switchboard.generate.vectors import _DAY, _HOUR, _ago, _choice, _concat, _pick
from switchboard.generate.vocabulary import (
    _FIRST_NAMES,
    _INDUSTRY_P,
    _LAST_NAMES,
    _LEAD_SOURCE_P,
    _LEAD_SOURCES,
    _PERSONAL_DOMAINS,
    _SEGMENT_P,
    INDUSTRIES,
    MM,
    SMB,
)
from switchboard.generate.write import _conform


class _Leads(_Base):
    """Leads, drawn after the accounts they may belong to."""

    def leads_frame(self) -> pl.DataFrame:
        rng, geo, st = self.rng, self.geo, self.staff
        n = self.n_leads - 1
        kind = rng.choice(4, size=n, p=[0.45, 0.25, 0.22, 0.08])
        is_usable = np.ones(self.n_old, dtype=bool)
        is_usable[self.bad_rows] = False
        usable = np.flatnonzero(is_usable)
        with_domain = usable[self.has_domain[usable]]
        account = np.where(kind == 0, rng.choice(with_domain, n), rng.choice(usable, n))
        matched = kind != 2
        first = rng.integers(0, len(_FIRST_NAMES), n)
        last = rng.integers(0, len(_LAST_NAMES), n)
        first_s = _pick(_FIRST_NAMES, first).str.to_lowercase()
        last_s = _pick(_LAST_NAMES, last).str.to_lowercase().str.replace_all(r"[^a-z]", "")
        local_style = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
        personal = _pick(_PERSONAL_DOMAINS, rng.integers(0, len(_PERSONAL_DOMAINS), n))
        unknown_names = self.names.base.slice(self.g, n)
        unknown_slug = self.names.slug.slice(self.g, n)
        unknown_cell = rng.choice(len(geo.p), size=n, p=geo.p)
        outside = np.flatnonzero(geo.region == OUTSIDE)
        to_outside = rng.random(n) < 0.02
        unknown_cell[to_outside] = rng.choice(outside, int(to_outside.sum()))
        moved = rng.random(n) < 0.15  # a lead whose own address differs from its account's
        cell = np.where(matched & ~moved, self.cell[account], unknown_cell)
        copy_firmo = matched & (rng.random(n) < 0.7)
        seg = rng.choice(3, size=n, p=_SEGMENT_P)
        u = rng.random(n)
        own_emp = np.select(
            [seg == SMB, seg == MM],
            [
                np.exp(np.log(2) + u * (np.log(200) - np.log(2))),
                np.exp(np.log(200) + u * (np.log(1000) - np.log(200))),
            ],
            1000 * (1 + rng.pareto(1.3, n)),
        )
        own_emp = np.clip(np.floor(own_emp), 1, 250_000).astype(np.int64)
        employees = np.where(copy_firmo, self.employees[account], own_emp)
        employees_null = (matched & ~copy_firmo) | (~matched & (rng.random(n) < 0.2))
        industry = np.where(
            copy_firmo, self.industry[account], rng.choice(len(INDUSTRIES), size=n, p=_INDUSTRY_P)
        )
        industry_null = matched & ~copy_firmo
        age = _choice(rng, np.arange(3), n, np.array([0.45, 0.40, 0.15]))
        seconds = np.select(
            [age == 0, age == 1],
            [rng.uniform(30, _HOUR, n), rng.uniform(_HOUR, _DAY, n)],
            rng.uniform(_DAY, 30 * _DAY, n),
        )
        acc_owner = self.owner[account]
        available = np.ones(st.carrying, dtype=bool)
        available[self.inactive_reps] = False
        random_rep = rng.choice(np.flatnonzero(available), n)
        owned_old = (age == 2) & (rng.random(n) < 0.6)
        owner = np.where(
            kind == 3, acc_owner, np.where(owned_old, np.where(matched, acc_owner, random_rep), -1)
        )
        frame = (
            pl.DataFrame(
                {
                    "kind": kind,
                    "style": local_style,
                    "first": first_s,
                    "last": last_s,
                    "host": self.account_host.gather(account),
                    "personal": personal,
                    "unknown_slug": unknown_slug,
                    "unknown_name": unknown_names,
                    "account_name": self.account_name.gather(account),
                    "account_base": self.account_base.gather(account),
                    "nn": pl.Series(rng.integers(1, 100, n)).cast(pl.String),
                    "company_roll": rng.random(n),
                    "website_roll": rng.random(n),
                    "unknown_tld": _pick(("com", "io", "co", "net"), rng.integers(0, 4, n)),
                }
            )
            .with_columns(
                unknown_host=pl.col("unknown_slug") + "." + pl.col("unknown_tld"),
                local=pl.when(pl.col("style") == 0)
                .then(pl.col("first") + "." + pl.col("last"))
                .when(pl.col("style") == 1)
                .then(pl.col("first").str.slice(0, 1) + pl.col("last"))
                .otherwise("first"),
            )
            .with_columns(
                email=pl.when(pl.col("kind").is_in([0, 3]))
                .then(pl.col("local") + "@" + pl.col("host"))
                .when(pl.col("kind") == 1)
                .then(
                    pl.col("first") + "." + pl.col("last") + pl.col("nn") + "@" + pl.col("personal")
                )
                .when(pl.col("company_roll") < 0.8)
                .then(pl.col("local") + "@" + pl.col("unknown_host"))
                .otherwise(pl.col("first") + "." + pl.col("last") + "@" + pl.col("personal")),
                company=pl.when(pl.col("kind") == 3)
                .then("account_name")
                .when((pl.col("kind") == 0) & (pl.col("company_roll") < 0.8))
                .then("account_name")
                .when(pl.col("kind") == 1)
                .then(
                    pl.when(pl.col("company_roll") < 0.8)
                    .then("account_name")
                    .otherwise("account_base")
                )
                .when((pl.col("kind") == 2) & (pl.col("company_roll") < 0.9))
                .then(pl.col("unknown_name") + " Inc"),
                domain=pl.when(pl.col("kind").is_in([0, 3]) & (pl.col("website_roll") < 0.35))
                .then("host")
                .when(
                    (pl.col("kind") == 2)
                    & (pl.col("company_roll") < 0.8)
                    & (pl.col("website_roll") < 0.4)
                )
                .then(pl.concat_str(pl.lit("https://"), "unknown_host")),
            )
        )
        width = max(6, len(str(n)))
        generic = pl.DataFrame(
            {
                "lead_id": _concat(
                    "LEAD-", pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
                ),
                "email": frame["email"],
                "created_at": _ago(self.now, seconds),
                "company": frame["company"],
                "domain": frame["domain"],
                "country": _spelled_country(rng, geo.country_idx[cell]),
                "state": _spelled_state(rng, geo.state_idx[cell]),
                "postal_code": _postal_codes(rng, cell, geo),
                "industry": pl.select(
                    pl.when(pl.lit(~industry_null)).then(_pick(INDUSTRIES, industry))
                ).to_series(),
                "employees": pl.select(
                    pl.when(pl.lit(~employees_null)).then(pl.lit(employees))
                ).to_series(),
                "source": _pick(_LEAD_SOURCES, rng.choice(len(_LEAD_SOURCES), n, p=_LEAD_SOURCE_P)),
                "account_id": pl.select(
                    pl.when(pl.lit(kind == 3)).then(self.account_ids.gather(account))
                ).to_series(),
                "owner_id": pl.select(
                    pl.when(pl.lit(owner >= 0)).then(_pick(st.ids, np.maximum(owner, 0)))
                ).to_series(),
            }
        )
        self.bad_lead = int(rng.integers(0, n))
        story = story_leads(self.now)
        return pl.concat([_conform(story, "leads"), _conform(generic, "leads")])
