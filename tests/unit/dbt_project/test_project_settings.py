"""dbt_project.yml and profiles.yml: the settings the rest of Switchboard relies on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
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
    folders = {name: config for name, config in models.items() if not name.startswith("+")}
    assert {folder: folders[folder]["+schema"] for folder in folders} == {
        "staging": "staging",
        "intermediate": "intermediate",
        "marts": "marts",
        # the snapshots' stand-ins on Spark sit where the snapshots do
        "snapshots_on_spark": spec["snapshots"]["switchboard"]["+schema"],
    }
    # Staging is materialised once per build: its normalisation is read a dozen times.
    assert models["staging"]["+materialized"] == "table"


def test_profile_reads_the_warehouse_path_from_the_environment() -> None:
    profiles = yaml.safe_load((dbt.PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    output = profiles["switchboard"]["outputs"][profiles["switchboard"]["target"]]
    assert output["type"] == "duckdb"
    assert output["path"] == "{{ env_var('SWITCHBOARD_WAREHOUSE', 'warehouse.duckdb') }}"
    assert output["threads"] in (1, 2)


def test_spark_output_builds_in_process_and_is_not_the_default() -> None:
    """The spark output uses the SparkSession switchboard.spark.session starts (dbt-spark's
    session method); DuckDB stays the default target."""
    profiles = yaml.safe_load((dbt.PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    assert profiles["switchboard"]["target"] == dbt.LOCAL_TARGET
    outputs = profiles["switchboard"]["outputs"]
    assert set(outputs) == set(dbt.TARGETS)
    spark = outputs[dbt.SPARK_TARGET]
    assert (spark["type"], spark["method"], spark["schema"]) == ("spark", "session", "main")
    assert spark["threads"] in (1, 2)


def test_snapshots_and_their_spark_stand_ins_are_never_enabled_together() -> None:
    """On Spark the snapshots are off and models of the same names hold their first
    version (docs/decisions/0025); on DuckDB the reverse."""
    spec = project()
    assert spec["snapshots"]["switchboard"]["+enabled"] == "{{ target.type != 'spark' }}"
    stand_ins = spec["models"]["switchboard"]["snapshots_on_spark"]
    assert stand_ins["+enabled"] == "{{ target.type == 'spark' }}"
    snapshots = {p.stem for p in (dbt.PROJECT_DIR / "snapshots").glob("*.sql")}
    models = {p.stem for p in (dbt.PROJECT_DIR / "models" / "snapshots_on_spark").glob("*.sql")}
    assert snapshots == models


def test_build_refuses_an_unknown_target_and_changes_on_spark() -> None:
    """Both are refused before dbt (or Spark) starts."""
    as_of = datetime(2026, 3, 1, 9, 0)
    with pytest.raises(ValueError, match="unknown dbt target 'snowflake'"):
        dbt.build(Path("w.duckdb"), as_of, RoutingConfig(), target="snowflake")
    with pytest.raises(ValueError, match="spark target rebuilds every model"):
        dbt.build(Path("home"), as_of, RoutingConfig(), target=dbt.SPARK_TARGET, changes=True)


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
