"""dbt_project.yml and profiles.yml: the settings the rest of Switchboard relies on."""

from __future__ import annotations

from typing import Any

import yaml

from switchboard import dbt
from switchboard.config import RoutingConfig, load_config


def project() -> dict[str, Any]:
    return yaml.safe_load((dbt.PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))


def test_var_defaults_match_the_shipped_routing_config() -> None:
    """Running dbt by hand uses the same settings as routing.yml."""
    defaults = project()["vars"]
    for name, value in load_config().dbt_vars().items():
        assert defaults[name] == value, name
    assert set(RoutingConfig().dbt_vars()) <= set(defaults)
    assert defaults["as_of"] is None


def test_project_flags_and_schemas() -> None:
    spec = project()
    assert spec["profile"] == "switchboard"
    assert spec["flags"]["send_anonymous_usage_stats"] is False
    assert spec["flags"]["partial_parse"] is True
    models = spec["models"]["switchboard"]
    assert {folder: models[folder]["+schema"] for folder in models} == {
        "staging": "staging",
        "intermediate": "intermediate",
        "marts": "marts",
    }
    # Staging is materialised once per build: its normalisation is read a dozen times.
    assert models["staging"]["+materialized"] == "table"


def test_profile_reads_the_warehouse_path_from_the_environment() -> None:
    profiles = yaml.safe_load((dbt.PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    output = profiles["switchboard"]["outputs"][profiles["switchboard"]["target"]]
    assert output["type"] == "duckdb"
    assert output["path"] == "{{ env_var('SWITCHBOARD_WAREHOUSE', 'warehouse.duckdb') }}"
    assert output["threads"] in (1, 2)


def test_routing_selectors_leave_unit_tests_to_the_test_suite() -> None:
    """dbt selects a model's unit tests along with the model unless the selection says
    `indirect_selection: empty`; routing runs must not pay for them (about 7 s a build)."""
    spec = yaml.safe_load((dbt.PROJECT_DIR / "selectors.yml").read_text(encoding="utf-8"))
    selectors = {s["name"]: s["definition"]["union"] for s in spec["selectors"]}
    assert set(selectors) >= {dbt.FIRST_RUN_OF_DAY, dbt.LATER_RUN_OF_DAY}
    for name, members in selectors.items():
        for member in members:
            if isinstance(member, dict) and member.get("method") == "resource_type":
                assert member.get("indirect_selection") == "empty", (name, member)
            else:  # data tests only: plain "resource_type:test" or an intersection
                assert "unit_test" not in str(member), (name, member)


def test_behaviour_flag_sources_are_named_as_dbt_names_them_without_walking_the_stack() -> None:
    """switchboard.dbt replaces dbt-common's stack walk (1.5-3 s a build) by the frames'
    globals: the flags name the same module, and no lazily imported module is loaded."""
    import sys

    from dbt_common import behavior_flags

    from switchboard import dbt

    flag = {"name": "some_flag", "default": False, "description": "a flag"}
    before = behavior_flags.BehaviorFlagRendered(flag, {})._behavior_change_event.flag_source
    dbt._name_flag_sources_cheaply()
    dbt._name_flag_sources_cheaply()  # idempotent
    watched = type(sys)("switchboard_test_lazy_probe")
    probed: list[str] = []

    def lazy_getattr(name: str) -> object:
        probed.append(name)
        raise AttributeError(name)

    watched.__getattr__ = lazy_getattr  # type: ignore[method-assign]
    sys.modules[watched.__name__] = watched
    try:
        after = behavior_flags.BehaviorFlagRendered(flag, {})._behavior_change_event.flag_source
    finally:
        del sys.modules[watched.__name__]
    assert before == after == __name__
    assert probed == []
