"""The commands README.md and docs/ show exist, with the options they show: each
`switchboard …` line in the docs is checked against the command's own --help."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from switchboard import cli
from tests.paths import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `switchboard` (or .venv/bin/switchboard) then words, up to a comment, a backtick or a pipe.
COMMAND = re.compile(r"(?:\.venv/bin/)?\bswitchboard((?: [^`|#\n]+)?)")
runner = CliRunner()


def _documented() -> list[tuple[str, str]]:
    """(where, command line) for every switchboard command the docs show."""
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for match in COMMAND.finditer(line):
                words = match.group(1).split()
                if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
                    found.append((f"{doc.name}:{number}", " ".join(words)))
    return found


def _command_and_options(words: list[str]) -> tuple[list[str], list[str]]:
    """The subcommand path (the leading bare words that name commands) and the options."""
    path: list[str] = []
    group_help = runner.invoke(cli.app, ["--help"], terminal_width=200).output
    for word in words:
        if word.startswith("-") or not re.search(
            rf"^\s*│?\s*{re.escape(word)}\s", group_help, re.MULTILINE
        ):
            break
        path.append(word)
        group_help = runner.invoke(cli.app, [*path, "--help"], terminal_width=200).output
    options = [w.split("=")[0] for w in words if w.startswith("--")]
    return path, options


DOCUMENTED = _documented()


def test_the_docs_show_commands() -> None:
    assert len(DOCUMENTED) >= 10


@pytest.mark.parametrize(("where", "line"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_a_documented_command_exists_with_its_options(where: str, line: str) -> None:
    path, options = _command_and_options(line.split())
    assert path, f"{where}: `switchboard {line}` names no command"
    result = runner.invoke(cli.app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, f"{where}: `switchboard {' '.join(path)}` is not a command"
    for option in options:
        assert option in result.output, (
            f"{where}: `switchboard {' '.join(path)}` has no option {option}"
        )
