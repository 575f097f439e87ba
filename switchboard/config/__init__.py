"""routing.yml: the rule hierarchy, thresholds, weights and queues, as typed settings.

The settings of each section live in their own module (routing: the whole file and its
rules; workload, queues, writeback, guards, sla, sinks); loader reads and checks the file.
The API is `load_config`, the `RoutingConfig` it returns, the `ConfigError` it raises and
`DEFAULT_CONFIG_PATH`, the shipped routing.yml.
"""

from __future__ import annotations

from switchboard.config.base import ConfigError
from switchboard.config.loader import DEFAULT_CONFIG_PATH, load_config
from switchboard.config.routing import RoutingConfig

__all__ = ["DEFAULT_CONFIG_PATH", "ConfigError", "RoutingConfig", "load_config"]
