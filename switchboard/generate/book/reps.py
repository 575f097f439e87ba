"""The people and the plan as frames: who is active, deactivated, moved out of sales or on
leave; the reps (capacity from the book just drawn, skills, managers), their HR rows, and
the territories with their members.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from switchboard.generate.book.base import _Base
from switchboard.generate.stories import (
    BACK_FROM_LEAVE_DAYS,
    REP_DANA,
    REP_LEAVE,
    REP_LEAVER,
    REP_LIGHT,
    REP_NAMED,
    REP_OVER,
    STORY_PEOPLE,
)
from switchboard.generate.vectors import _DAY, _HOUR, _ago, _pick
from switchboard.generate.vocabulary import _FIRST_NAMES, _LAST_NAMES, _SKILLS, EMAIL_DOMAIN
from switchboard.generate.write import _conform


class _Reps(_Base):
    """Rep statuses (drawn right after the accounts), then the reps, HR and plan frames."""

    def rep_statuses(self) -> None:
        """Deactivated, role-changed and on-leave reps: a small share, never story reps.

        Departures come from the lightest books so that, as in a real snapshot, only a few
        per cent of owned accounts need a new owner (the guards stop a run at 30%).
        """
        rng, st = self.rng, self.staff
        story = list(st.story.values())
        self.role = np.where(rng.random(st.n) < 0.12, "SDR", "AE").astype(object)
        self.role[story] = "AE"
        self.role[st.carrying :] = "Sales Manager"
        carrying = np.arange(st.carrying)
        generic_ae = carrying[~np.isin(carrying, story) & (self.role[: st.carrying] == "AE")]
        book = np.bincount(self.owner[self.owner >= 0], minlength=st.n)
        jittered = book[generic_ae] * rng.uniform(0.8, 1.25, len(generic_ae))
        in_story = np.isin(generic_ae, self.story_members())
        candidates = generic_ae[np.lexsort((jittered, in_story))]
        n_deactivated = 1 if st.carrying < 200 else 2
        n_leave = max(0, round(0.02 * st.carrying) - 1)
        self.deactivated = candidates[:n_deactivated]
        self.role_changed = candidates[n_deactivated : n_deactivated + 1]
        self.on_leave = np.concatenate(
            [[st.story[REP_LEAVE]], candidates[n_deactivated + 1 : n_deactivated + 1 + n_leave]]
        ).astype(np.int64)
        self.inactive_reps = np.concatenate(
            [self.deactivated, self.role_changed, [st.story[REP_LEAVER]]]
        ).astype(np.int64)

    def reps_frame(self) -> pl.DataFrame:
        """CRM users; capacity from the book just drawn, so most reps sit at index 71-100
        (capacity = book x U(1.0, 1.4)), a few far above or below, REP-OVER above 100."""
        rng, st = self.rng, self.staff
        owned = self.owner[self.owner >= 0]
        book = np.bincount(owned, minlength=st.n).astype(float)
        pipe = np.bincount(self.owner[self.has_open & (self.owner >= 0)], minlength=st.n).astype(
            float
        )
        book[st.story[REP_DANA]] += 1
        pipe[st.story[REP_DANA]] += 1
        book[st.story[REP_NAMED]] += 1
        units = book + 0.5 * pipe
        factor = rng.uniform(1.0, 1.4, st.n)
        story = set(st.story.values())
        generic = np.setdiff1d(
            np.arange(st.carrying), [*story, *self.story_members(), *self.inactive_reps]
        )
        skewed = rng.permutation(generic)
        n_skew = max(1, round(0.015 * st.carrying))
        factor[skewed[:n_skew]] = rng.uniform(0.6, 0.8, n_skew)
        factor[skewed[n_skew : 2 * n_skew]] = rng.uniform(2.0, 3.0, n_skew)
        factor[st.story[REP_OVER]] = 0.6
        factor[st.story[REP_LIGHT]] = 3.0
        capacity = np.maximum(np.ceil(units * factor), 5).astype(np.int64)

        first = rng.integers(0, len(_FIRST_NAMES), st.n)
        last = rng.integers(0, len(_LAST_NAMES), st.n)
        names = pl.DataFrame(
            {"f": _pick(_FIRST_NAMES, first), "l": _pick(_LAST_NAMES, last), "id": st.ids}
        ).with_columns(
            name=pl.col("f") + " " + pl.col("l"),
            email=pl.col("f").str.to_lowercase()
            + "."
            + pl.col("l").str.to_lowercase().str.replace_all(r"[^a-z]", "")
            + "."
            + pl.col("id").str.extract(r"(\d+)$").cast(pl.Int64).cast(pl.String)
            + "@"
            + EMAIL_DOMAIN,
        )

        name = names["name"].to_numpy().astype(object)
        email = names["email"].to_numpy().astype(object)
        for rep_id, person in STORY_PEOPLE.items():
            name[st.story[rep_id]] = person
            email[st.story[rep_id]] = person.lower().replace(" ", ".") + "@" + EMAIL_DOMAIN
        self.rep_email = email

        teams = self.plan.teams
        team_name = np.array([t.name for t in teams] + [""], dtype=object)
        team_label = np.array([t.label for t in teams] + [None], dtype=object)
        managers = np.arange(st.carrying, st.n)
        team = team_name[st.team]
        segment = team_label[st.team]
        team[managers] = st.manager_team
        segment[managers] = st.manager_segment
        region = np.array([t.region for t in teams] + [-1])[st.team]
        # Skills: languages by region, a specialism or two, overlay specialisms.
        probs = np.zeros((st.n, len(_SKILLS)))
        lang = {
            4: {"German": 0.3, "French": 0.25, "Spanish": 0.15, "Dutch": 0.1},
            5: {"Japanese": 0.3, "Mandarin": 0.15, "Hindi": 0.15},
            3: {"French": 0.45},
            0: {"Spanish": 0.15},
            1: {"Spanish": 0.1},
            2: {"Spanish": 0.15},
        }
        for r, by_skill in lang.items():
            for skill, p in by_skill.items():
                probs[region == r, _SKILLS.index(skill)] = p
        for skill, p in (
            ("Healthcare", 0.12),
            ("Financial Services", 0.12),
            ("Public Sector", 0.08),
            ("Software", 0.2),
            ("Manufacturing", 0.1),
            ("Negotiation", 0.25),
            ("Channel Partners", 0.1),
        ):
            probs[: st.carrying, _SKILLS.index(skill)] = p
        probs[managers] = 0.0
        probs[managers, _SKILLS.index("Coaching")] = 1.0
        probs[managers, _SKILLS.index("Forecasting")] = 1.0
        has = rng.random(probs.shape) < probs
        for rep, specialisms in st.skill_of_rep.items():
            has[rep, [_SKILLS.index(s) for s in specialisms if s in _SKILLS]] = True
        skill_frame = pl.DataFrame(has, schema=list(_SKILLS), orient="row")
        skills = (
            skill_frame.select(
                pl.concat_list([pl.when(pl.col(s)).then(pl.lit(s)) for s in _SKILLS])
                .list.drop_nulls()
                .alias("skills")
            )
            .with_columns(pl.when(pl.col("skills").list.len() > 0).then("skills"))
            .to_series()
        )
        is_active = np.ones(st.n, dtype=bool)
        is_active[self.deactivated] = False
        manager_id = np.where(st.manager >= 0, st.ids[np.maximum(st.manager, 0)], None)
        frame = pl.DataFrame(
            {
                "rep_id": st.ids,
                "name": pl.Series(name, dtype=pl.String),
                "email": pl.Series(email, dtype=pl.String),
                "role": pl.Series(self.role, dtype=pl.String),
                "team": pl.Series(team, dtype=pl.String),
                "segment": pl.Series(segment, dtype=pl.String),
                "manager_id": pl.Series(manager_id, dtype=pl.String),
                "capacity": pl.select(
                    pl.when(pl.lit(np.arange(st.n) < st.carrying)).then(pl.lit(capacity))
                ).to_series(),
                "skills": skills,
                "is_active": is_active,
            }
        )
        return _conform(frame, "reps")

    def hr_frame(self) -> pl.DataFrame:
        rng, st = self.rng, self.staff
        n = st.n
        today = self.now.astype("datetime64[D]")
        status = np.full(n, "active", dtype=object)
        start = today - rng.integers(60, 8 * 365, n).astype("timedelta64[D]")
        end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        updated = rng.uniform(_DAY, 200 * _DAY, n)
        leave = self.on_leave
        status[leave] = "leave"
        start[leave] = today - rng.integers(3, 40, len(leave)).astype("timedelta64[D]")
        end[leave] = today + rng.integers(7, 90, len(leave)).astype("timedelta64[D]")
        updated[leave] = rng.uniform(_HOUR, 3 * _DAY, len(leave))
        lee = st.story[REP_LEAVE]
        start[lee], end[lee] = today - np.timedelta64(10, "D"), today + np.timedelta64(30, "D")
        # Liam Light is back from nine days of leave: available today and with room, the
        # capacity pick gives him the overload territory's new records, far more than his
        # weighted share of the days he was there (the territory fairness story).
        liam = st.story[REP_LIGHT]
        status[liam] = "leave"
        start[liam] = today - np.timedelta64(BACK_FROM_LEAVE_DAYS + 9, "D")
        end[liam] = today - np.timedelta64(BACK_FROM_LEAVE_DAYS, "D")
        pat = st.story[REP_LEAVER]
        status[pat] = "terminated"
        start[pat] = today - np.timedelta64(1, "D")
        updated[pat] = _DAY - 2 * _HOUR
        role = self.role.copy()
        role[self.role_changed] = "Sales Engineer"
        updated[self.role_changed] = 2 * _DAY
        frame = pl.DataFrame(
            {
                "email": pl.Series(self.rep_email, dtype=pl.String),
                "status": pl.Series(status, dtype=pl.String),
                "status_start": start,
                "status_end": end,
                "role": pl.Series(role, dtype=pl.String),
                "updated_at": _ago(self.now, updated),
            }
        )
        return _conform(frame, "hr")

    def territories_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        terrs = self.plan.territories

        def lists(attr: str) -> pl.Series:
            values = [list(getattr(t, attr)) if getattr(t, attr) else None for t in terrs]
            return pl.Series(values, dtype=pl.List(pl.String))

        territories = pl.DataFrame(
            {
                "territory_id": [t.territory_id for t in terrs],
                "name": [t.name for t in terrs],
                "priority": [t.priority for t in terrs],
                "segment": pl.Series([t.segment for t in terrs], dtype=pl.String),
                "countries": lists("countries"),
                "states": lists("states"),
                "postal_prefixes": lists("postal_prefixes"),
                "industries": lists("industries"),
                "min_employees": pl.Series([t.min_employees for t in terrs], dtype=pl.Int64),
                "max_employees": pl.Series([t.max_employees for t in terrs], dtype=pl.Int64),
                "min_revenue": pl.Series([None] * len(terrs), dtype=pl.Float64),
                "max_revenue": pl.Series([None] * len(terrs), dtype=pl.Float64),
                "overflow_queue": [t.overflow_queue for t in terrs],
            }
        )
        st = self.staff
        tid = np.array([t.territory_id for t in terrs])
        members = pl.DataFrame(
            {
                "territory_id": tid[st.member_territory],
                "rep_id": st.ids[st.member_rep],
                "weight": st.member_weight,
                "is_primary": st.member_primary,
            }
        )
        return _conform(territories, "territories"), _conform(members, "territory_members")
