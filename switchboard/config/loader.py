"""load_config: routing.yml read, versioned and validated, every problem one ConfigError
line naming the file, the line and the likely key."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import get_args, get_type_hints

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from switchboard import ENGINE_VERSION, resources
from switchboard.config.base import ConfigError, did_you_mean
from switchboard.config.routing import RoutingConfig
from switchboard.mapping import HeaderMapping, MappingError, load_mapping, parse_mapping

DEFAULT_CONFIG_PATH = resources.routing_yml()


def load_config(path: Path | str | None = None, mapping: str | None = None) -> RoutingConfig:
    """Read routing.yml (the shipped one by default) and stamp its rules_version.

    ``mapping`` (a command's --mapping: a preset or a file relative to the working folder)
    replaces routing.yml's `mapping:`. Every problem is a ConfigError in plain words with
    the file and line, so that a typo reads as one line on the command line, before
    anything else starts."""
    source = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read config {source}: {reason}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {source}{_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"config {source}: expected a mapping of settings at the top level "
            "(such as `workload:`)"
        )
    header_mapping = (
        _load_mapping("--mapping", mapping, Path.cwd())
        if mapping
        else _load_mapping(f"config {source}", data.get("mapping"), source.parent)
    )
    data["mapping"] = header_mapping
    if "sla" in data and data["sla"] is None:
        # An empty `sla:` is a section whose settings were left out (or commented out), not
        # the feature switched off: that is the section removed.
        line = _line_of(yaml.compose(text), ("sla",))
        raise ConfigError(
            f"config {source}: {f'line {line}: ' if line else ''}`sla` is "
            "empty: give first_touch_minutes (and sources, max_reroutes), or "
            "remove the section to switch the first-touch SLA off"
        )
    # A changed mapping file reads the same export differently: it is part of the version.
    mapped = f"|mapping={header_mapping.digest}" if header_mapping else ""
    digest = hashlib.sha256(
        text.encode() + f"|engine={ENGINE_VERSION}{mapped}".encode()
    ).hexdigest()
    data["rules_version"] = digest[:12]
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        tree = yaml.compose(text)
        raise ConfigError(
            f"config {source}: " + "; ".join(_explain(error, tree) for error in exc.errors())
        ) from None


def _load_mapping(where: str, spec: object, base: Path) -> HeaderMapping | None:
    """routing.yml's `mapping:` (or --mapping) loaded and checked against the contracts,
    so a mapping typo stops every command in one line, like a routing.yml one."""
    if spec is None:
        return None
    try:
        if isinstance(spec, dict):
            return parse_mapping(spec, f"{where} (mapping)")
        if isinstance(spec, str):
            return load_mapping(spec, base=base)
    except MappingError as exc:
        raise ConfigError(f"{where}: `mapping`: {exc}") from None
    raise ConfigError(f"{where}: `mapping` must be a preset name, a file or a mapping of entities")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """ ": line 3: expected ... (while parsing a flow sequence that starts on line 2)"."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f": {exc}"
    where = f": line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
    what = exc.problem or "not valid YAML"
    if exc.context:
        started = f" that starts on line {exc.context_mark.line + 1}" if exc.context_mark else ""
        what += f" ({exc.context}{started})"
    return f"{where}: not valid YAML: {what}"


def _explain(error: ErrorDetails, tree: yaml.Node | None) -> str:
    """One pydantic error as "line 27: unknown key `high_wter` under `workload`: did you
    mean `high_water`?" (or "`workload.release` (line 29): ..." for a value)."""
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    # A check across settings names its own keys ("rules: fallback_queue must ..."): point
    # at the first key it names rather than at the section, or at nothing.
    key, colon, rest = message.partition(":")
    if error["type"] == "value_error" and colon and key in _keys_at(loc):
        loc, message = (*loc, key), rest.strip()
    line = _line_of(tree, loc)
    at = f"line {line}: " if line else ""
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        under = f" under `{_dotted(loc[:-1])}`" if loc[:-1] else ""
        keys = _keys_at(loc[:-1])
        hint = did_you_mean(key, keys) or (
            f" (the keys there are {', '.join(keys)})" if keys else ""
        )
        return f"{at}unknown key `{key}`{under}{hint}"
    name = f"`{_dotted(loc)}`" if loc else "the settings"
    if error["type"] == "missing":
        return f"{at}{name} is missing"
    if error["type"] == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        return (
            f"{at}{name} is `{error['input']}`{did_you_mean(str(error['input']), expected)}"
            f" (one of {', '.join(expected)})"
        )
    got = (
        ""
        if error["type"].startswith("value_error") or isinstance(error["input"], dict | list)
        else f", not `{error['input']}`"
    )
    return f"{at}{name}: {message[:1].lower()}{message[1:]}{got}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    """('rules', 2, 'name') -> rules[2].name"""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest key of ``loc`` found in the YAML tree."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and (0 <= part < len(node.value))
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The settings a routing.yml section accepts (list indices skipped)."""
    model: type[BaseModel] | None = RoutingConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            break
        field = model.model_fields.get(part)
        # A section with keys of the user's own (queues: their names) types them all alike.
        model = _section(
            field.annotation if field else get_type_hints(model).get("__pydantic_extra__")
        )
    if model is None:
        return []
    return [name for name in model.model_fields if name != "rules_version"]


def _section(annotation: object) -> type[BaseModel] | None:
    """The settings model inside a field's type (Workload, list[Rule] -> Rule)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _section(arg)
        if found is not None:
            return found
    return None
