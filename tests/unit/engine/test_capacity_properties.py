"""route() on crowded orgs (few reps, many records): capacity and followers hold when
territories fill up. The properties are listed in tests/unit/engine/test_properties.py."""

from __future__ import annotations

from hypothesis import given, settings

from .route_cases import Case, _run, check_capacity, check_followers, crowded_cases


@settings(max_examples=60, deadline=None)
@given(crowded_cases())
def test_capacity_properties_when_crowded(case: Case) -> None:
    result = _run(case, case.org.frames())
    assert result.decisions.height == len(case.org.accounts) + len(case.org.leads)
    check_capacity(case, result)
    check_followers(case, result)
