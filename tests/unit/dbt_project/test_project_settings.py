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


def test_the_sla_horizon_is_the_engines() -> None:
    """int_lead_sla_clocks_due leaves out the clocks the engine would not check."""
    from switchboard.engine.sla import HORIZON

    assert project()["vars"]["sla_horizon_days"] * 86400 == HORIZON.total_seconds()


def test_without_sla_no_clock_is_due() -> None:
    """routing.yml without sla: reaches int_lead_sla_clocks_due as a null minutes var."""
    variables = RoutingConfig(sla=None).dbt_vars()
    assert variables["sla_first_touch_minutes"] is None
    assert variables["sla_sources"] == []


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
