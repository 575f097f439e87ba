"""The book of business, drawn entity by entity (accounts, opportunities, leads, reps and
HR, the plan, activities), one module per entity, composed into `_Builder`.
"""

from __future__ import annotations

import polars as pl

from switchboard.generate.book.accounts import _Accounts
from switchboard.generate.book.leads import _Leads
from switchboard.generate.book.opportunities import _Opportunities
from switchboard.generate.book.reps import _Reps
from switchboard.generate.stories import REP_LEAVE, REP_LEAVER, REP_OVER, StoryIds
from switchboard.generate.write import ENTITIES


class _Builder(_Accounts, _Opportunities, _Leads, _Reps):
    """Draws the org entity by entity; each step reads only what earlier steps made."""

    def build(self) -> dict[str, pl.DataFrame]:
        """Every entity as a typed frame in contract columns, in ENTITIES order."""
        self.accounts()
        self.rep_statuses()
        self.named_and_parents()
        frames = {"opportunities": self.opportunities()}
        self.pick_bad_accounts()
        frames["accounts"] = self.accounts_frame()
        frames["leads"] = self.leads_frame()
        frames["reps"] = self.reps_frame()
        frames["hr"] = self.hr_frame()
        frames["territories"], frames["territory_members"] = self.territories_frames()
        frames["named_accounts"] = self.named_frame()
        frames["activities"] = self.activities_frame()
        return {entity: frames[entity] for entity in ENTITIES}

    def stories(self) -> StoryIds:
        tid = [t.territory_id for t in self.plan.territories]
        acme, acme_lead, globex_eu = self.story_accounts_territories()
        anchor = self.staff.anchor_territory
        ids = self.account_ids
        return StoryIds(
            acme_territory=tid[acme],
            acme_lead_territory=tid[acme_lead],
            named_subsidiary_territory=tid[globex_eu],
            leave_territory=tid[anchor[REP_LEAVE]],
            leave_new_accounts=tuple(ids.gather(self.leave_new).to_list()),
            overload_territory=tid[anchor[REP_OVER]],
            overload_new_accounts=tuple(ids.gather(self.over_new).to_list()),
            leaver_territory=tid[anchor[REP_LEAVER]],
            leaver_accounts=tuple(ids.gather(self.leaver_rows).to_list()),
        )
