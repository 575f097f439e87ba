"""`switchboard docs` opens a browser only for someone at a terminal."""

from __future__ import annotations

import pytest

from switchboard.cli import reports


@pytest.mark.parametrize(
    ("no_open", "ci", "tty", "opens"),
    [
        (False, None, True, True),
        (True, None, True, False),  # --no-open
        (False, "true", True, False),  # CI
        (False, None, False, False),  # stdin is not a TTY: a script, a scheduler
    ],
)
def test_a_browser_opens_only_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch, no_open: bool, ci: str | None, tty: bool, opens: bool
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(reports.sys.stdin, "isatty", lambda: tty, raising=False)
    assert reports._may_open_browser(no_open) is opens
