"""A validator for the Slack Block Kit subset Switchboard emits (header, section, context,
divider; plain_text and mrkdwn text objects), written from Slack's documented limits:

- a message holds at most 50 blocks;
- header: `text` is a plain_text object of at most 150 characters;
- section: `text` (at most 3000 characters) and/or `fields` (1 to 10 text objects of at
  most 2000 characters each); one of them is required;
- context: `elements`, 1 to 10 text (or image) elements;
- divider: nothing but its type;
- every block may carry a `block_id` of at most 255 characters;
- a text object: type plain_text (optional `emoji`) or mrkdwn (optional `verbatim`), a
  non-empty `text`;
- with blocks, the top-level `text` is the fallback for notifications and must be given.

On top of the schema it checks what Slack would otherwise render wrongly: mrkdwn may hold
`<` only to open a link or a mention, and `&` only as &amp;, &lt; or &gt;. It returns the
problems it finds (an empty list: valid), so a test's failure names each one.
"""

from __future__ import annotations

import re
from typing import Any

MAX_BLOCKS = 50
MAX_BLOCK_ID = 255
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT = 3000

BLOCK_KEYS = {
    "header": ({"type", "text"}, {"block_id"}),
    "section": ({"type"}, {"text", "fields", "block_id"}),
    "context": ({"type", "elements"}, {"block_id"}),
    "divider": ({"type"}, {"block_id"}),
}
# <https://…|label>, <mailto:…>, <@U123>, <!subteam^S123>, <!here>, <!channel>, <#C123>
_MARKUP = re.compile(
    r"<(?:(?:https?://|mailto:)[^|<>\s]+(?:\|[^<>]*)?|@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+"
    r"|!here|!channel|!everyone|#C[A-Z0-9]+)>"
)
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")


def validate(message: Any) -> list[str]:
    """The problems of one message payload ({"text": ..., "blocks": [...]})."""
    problems: list[str] = []
    if not isinstance(message, dict):
        return ["the message is not a JSON object"]
    if not isinstance(message.get("text"), str) or not message["text"].strip():
        problems.append("no plain `text` fallback")
    blocks = message.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*problems, "`blocks` is not a non-empty list"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (at most {MAX_BLOCKS})")
    for i, block in enumerate(blocks):
        problems += [f"blocks[{i}]: {p}" for p in _block(block)]
    return problems


def _block(block: Any) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_KEYS:
        return [f"unknown block type {block.get('type') if isinstance(block, dict) else block!r}"]
    kind = block["type"]
    required, optional = BLOCK_KEYS[kind]
    problems = [f"{kind} lacks `{k}`" for k in sorted(required - set(block))]
    problems += [f"{kind} has unknown key `{k}`" for k in sorted(set(block) - required - optional)]
    if "block_id" in block and not (
        isinstance(block["block_id"], str) and 0 < len(block["block_id"]) <= MAX_BLOCK_ID
    ):
        problems.append(f"block_id longer than {MAX_BLOCK_ID} characters or empty")
    if kind == "header" and "text" in block:
        problems += _text(block["text"], "text", MAX_HEADER_TEXT, plain_only=True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append("section has neither `text` nor `fields`")
        if "text" in block:
            problems += _text(block["text"], "text", MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
                problems.append(f"`fields` must hold 1 to {MAX_FIELDS} text objects")
            else:
                for j, field in enumerate(fields):
                    problems += _text(field, f"fields[{j}]", MAX_FIELD_TEXT)
    elif kind == "context" and "elements" in block:
        elements = block["elements"]
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            problems.append(f"`elements` must hold 1 to {MAX_CONTEXT_ELEMENTS} elements")
        else:
            for j, element in enumerate(elements):
                problems += _text(element, f"elements[{j}]", MAX_TEXT)
    return problems


def _text(obj: Any, where: str, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where} is not a text object"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where} must be plain_text"]
    allowed = (
        {"type", "text", "emoji"} if obj["type"] == "plain_text" else {"type", "text", "verbatim"}
    )
    problems = [f"{where} has unknown key `{k}`" for k in sorted(set(obj) - allowed)]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [*problems, f"{where} has no text"]
    if len(text) > limit:
        problems.append(f"{where} is {len(text)} characters (at most {limit})")
    if obj["type"] == "mrkdwn":
        stray = _MARKUP.sub("", text)
        if "<" in stray or ">" in stray:
            problems.append(f"{where} has an unescaped < or > outside a link or mention")
        if _ENTITY.search(text):
            problems.append(f"{where} has an unescaped &")
    return problems


def texts(message: dict[str, Any]) -> list[str]:
    """Every text of a message's blocks, in order."""
    found: list[str] = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", []) if "text" in e]
    return found
