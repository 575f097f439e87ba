"""Switchboard: account and lead routing for revenue-operations teams."""

from __future__ import annotations

import os

__version__ = "0.1.0"
# Part of every rules_version (switchboard/config/loader.py): raised when the engine decides the
# same inputs differently, so decisions, queued records and the run ledger tell the rules
# apart. 2: a lead follows the account decided in the same run.
ENGINE_VERSION = "2"

# Nothing in Switchboard phones home: switch off the analytics of every library we embed
# before any of them is imported. Users can still override these in their environment.
# Child processes (the bench's timed runs) get the same settings from TELEMETRY_OFF.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}
for _key, _value in {**TELEMETRY_OFF, "PREFECT_LOGGING_LEVEL": "WARNING"}.items():
    os.environ.setdefault(_key, _value)
