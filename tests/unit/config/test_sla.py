"""routing.yml `sla:`: validated before anything runs, every mistake one line naming the
file, the line and the setting; absent, the first-touch SLA is off."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config import ConfigError, RoutingConfig, load_config
from switchboard.config.sla import Sla


def config_file(folder: Path, text: str) -> Path:
    path = folder / "routing.yml"
    path.write_text("# routing\n" + text, encoding="utf-8")
    return path


def test_absent_sla_is_off() -> None:
    assert RoutingConfig().sla is None


def test_a_full_section_reads(tmp_path: Path) -> None:
    config = load_config(
        config_file(
            tmp_path,
            "sla:\n  first_touch_minutes: 30\n  sources: [' Web', Demo Request]\n"
            "  max_reroutes: 1\n",
        )
    )
    assert config.sla == Sla(
        first_touch_minutes=30, sources=[" Web", "Demo Request"], max_reroutes=1
    )
    assert config.sla.source_keys == ["demo request", "web"]


def test_sources_and_max_reroutes_have_defaults(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, "sla:\n  first_touch_minutes: 15\n"))
    assert config.sla is not None
    assert (config.sla.sources, config.sla.max_reroutes) == ([], 2)


def test_the_sla_is_part_of_the_rules_version(tmp_path: Path) -> None:
    off = load_config(config_file(tmp_path, "alerts:\n  unowned_hours: 24\n"))
    on = load_config(
        config_file(tmp_path, "alerts:\n  unowned_hours: 24\nsla:\n  first_touch_minutes: 30\n")
    )
    assert off.rules_version != on.rules_version


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sla:\n  first_touch_minutes: 0\n",
            "line 3: `sla.first_touch_minutes`: input should be greater than 0, not `0`",
        ),
        (
            "sla:\n  first_touch_minutes: -5\n",
            "line 3: `sla.first_touch_minutes`: input should be greater than 0, not `-5`",
        ),
        (
            "sla:\n  first_touch_minutes: half an hour\n",
            "line 3: `sla.first_touch_minutes`: input should be a valid integer",
        ),
        (
            "sla:\n  first_touch_minutes: 7.5\n",
            "`sla.first_touch_minutes`: input should be a valid integer, got a number with a "
            "fractional part, not `7.5`",
        ),
        (
            "sla:\n  first_touch_minutes: yes\n",
            "line 3: `sla.first_touch_minutes`: is `true`, not a number of minutes",
        ),
        (
            "sla:\n  first_touch_minutes: 30\n  max_reroutes: -1\n",
            "line 4: `sla.max_reroutes`: input should be greater than or equal to 0, not `-1`",
        ),
        ("sla:\n  max_reroutes: 2\n", "line 2: `sla.first_touch_minutes` is missing"),
        (
            "sla:\n  first_touch_minutes: 30\n  sources: Web\n",
            "line 4: `sla.sources`: is `Web`, not a list: write `sources: [Web]`",
        ),
        (
            "sla:\n  first_touch_minutes: 30\n  sources: [Web, '']\n",
            "line 4: `sla.sources`: an empty value is not a lead source",
        ),
        (
            "sla:\n  first_touch_minutes: 30\n  sources: [Web, 42]\n",
            "line 4: `sla.sources`: `42` is not a lead source",
        ),
        (
            "sla:\n  first_touch_minute: 30\n",
            "line 3: unknown key `first_touch_minute` under `sla`: did you mean "
            "`first_touch_minutes`?",
        ),
        ("sla:\n", "line 2: `sla` is empty: give first_touch_minutes"),
        ("sla: 30\n", "line 2: `sla`: is `30`, not settings such as `{first_touch_minutes: 30"),
    ],
)
def test_a_bad_sla_setting_is_one_line_naming_the_line_and_setting(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"config {path}: ")
    assert expected in message, message
    assert "\n" not in message and "[type=" not in message


def test_settings_survive_a_round_trip() -> None:
    """What model_dump gives validates again, with or without the section."""
    on = RoutingConfig.model_validate({"sla": {"first_touch_minutes": 30}})
    for config in (RoutingConfig(), on):
        assert RoutingConfig.model_validate(config.model_dump()) == config
