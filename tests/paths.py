"""Where the repository and the test fixtures are, for test modules at any depth."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
BROKEN_SNAPSHOT = FIXTURES / "broken_snapshot"
SALESFORCE_SNAPSHOT = FIXTURES / "salesforce_snapshot"
