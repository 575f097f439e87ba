"""What every routing.yml section shares: the strict settings model, the error a bad
routing.yml raises, and the "did you mean" hint of its messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """routing.yml cannot be read or does not validate. The message is one line naming the
    file, the line and, for a misspelt key or value, the likely one."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """ ": did you mean `x`?" for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f": did you mean `{close[0]}`?" if close else ""
