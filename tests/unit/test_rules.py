"""switchboard.rules is the one list of rules and alert types: what cannot import it (the
dbt project's accepted_values, the docs) must agree with it, and what can derives from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchboard import rules, tables
from switchboard.config import ConfigError, RoutingConfig, load_config
from switchboard.engine import hierarchy, rationale, schema
from switchboard.messages import counted

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "dbt_project" / "models"


def _accepted_values(node: Any, column: str | None = None) -> list[tuple[str | None, list[Any]]]:
    """Every accepted_values list in a parsed dbt yml, with the column it tests."""
    found: list[tuple[str | None, list[Any]]] = []
    if isinstance(node, dict):
        name = node.get("name", column) if "data_tests" in node or "tests" in node else column
        for key, value in node.items():
            if key == "accepted_values" and isinstance(value, dict):
                values = value.get("arguments", value).get("values")
                if isinstance(values, list):
                    found.append((name, values))
            else:
                found += _accepted_values(value, name)
    elif isinstance(node, list):
        for item in node:
            found += _accepted_values(item, column)
    return found


def _dbt_lists() -> list[tuple[Path, str | None, list[Any]]]:
    lists = []
    for path in sorted(MODELS.rglob("_*.yml")):
        for column, values in _accepted_values(yaml.safe_load(path.read_text())):
            lists.append((path, column, values))
    return lists


def test_dbt_accepted_values_of_rules_equal_the_registry() -> None:
    """Every dbt list of rule names (one sharing a name with the registry) lists exactly the
    registry's rules: a rule added in Python fails here until dbt accepts it too."""
    of_rules = [(p, c, v) for p, c, v in _dbt_lists() if set(v) & set(rules.RULE_NAMES)]
    assert of_rules, "no dbt accepted_values test lists the rules"
    for path, column, values in of_rules:
        assert column == "rule", f"{path.name}: {column} lists rule names"
        assert sorted(values) == sorted(rules.RULE_NAMES), path.name


def test_dbt_accepted_values_of_alert_types_equal_the_registry() -> None:
    for path, column, values in _dbt_lists():
        if set(values) & set(rules.ALERT_TYPES):
            assert sorted(values) == sorted(rules.ALERT_TYPES), f"{path.name}: {column}"


def test_the_registry_names_each_rule_and_alert_type_once() -> None:
    assert len(set(rules.RULE_NAMES)) == len(rules.RULE_SPECS)
    assert len(set(rules.ALERT_TYPES)) == len(rules.ALERT_SPECS)
    assert rules.ORDERED_RULES[-1] == "fallback_queue"


def test_the_engine_and_config_take_their_rule_lists_from_the_registry() -> None:
    assert schema.RULES == rules.RULE_NAMES
    assert hierarchy.OWNER_RULES == (
        "open_opportunity",
        "named_account",
        "account_owner",
        "territory",
    )
    assert [r.name for r in RoutingConfig().rules] == list(rules.ORDERED_RULES)
    # Every rationale sentence exists, and every rule has at least one.
    sentences = rationale._sentences(RoutingConfig())
    assert set(rationale.RATIONALE_RULES) == set(sentences)
    assert {s for r in rules.RULE_SPECS for s in r.rationale_sentences} == set(sentences)


def test_routing_yml_orders_only_the_registry_s_ordered_rules(tmp_path: Path) -> None:
    config = tmp_path / "routing.yml"
    config.write_text("rules:\n  - name: manager_review\n  - name: fallback_queue\n")
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    message = str(raised.value)
    assert "line 2: `rules[0].name` is `manager_review`" in message
    assert f"(one of {', '.join(rules.ORDERED_RULES)})" in message


def test_alert_wording_comes_from_the_registry() -> None:
    assert counted("rep_overloaded", 1) == "1 rep over capacity"
    assert counted("rep_overloaded", 3) == "3 reps over capacity"
    assert rules.DIGEST_TYPES[0] == "guard_tripped"
    assert "routing_conflict" not in rules.DIGEST_TYPES
    assert rules.severity("pipeline_handoff") == "high"
    with pytest.raises(ValueError, match="no fixed severity"):
        rules.severity("rep_data_problem")


def test_architecture_lists_every_rule_once_in_where_each_rule_lives() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = text.split("### Where each rule lives", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert rows == list(rules.RULE_NAMES)


def test_the_dbt_sources_list_the_tables_the_registry_says_dbt_reads() -> None:
    sources = yaml.safe_load(
        (ROOT / "dbt_project" / "models" / "staging" / "_sources.yml").read_text()
    )["sources"]
    listed = {f"{s['schema']}.{t['name']}": s["name"] for s in sources for t in s["tables"]}
    for table in tables.TABLES:
        if table.dbt_source is not None:
            assert listed.get(table.name) == table.dbt_source, table.name
    written = {t.name for t in tables.TABLES}
    # Every routing or reference source is a table the registry declares.
    assert {n for n in listed if not n.startswith("raw.")} <= written
    assert {t.name for t in tables.dbt_source_tables("routing")} == {
        n for n, s in listed.items() if s == "routing"
    }
