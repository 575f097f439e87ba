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
