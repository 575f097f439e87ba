"""The build step that makes an installed Switchboard whole.

The dbt project, the data contracts, the default routing.yml and prefect.yaml live at the
repository's top level, beside the package, where analysts and operators find them. A
wheel holds only packages, so `build_py` below copies them into the built package as
`switchboard/_bundled/`; `switchboard/resources.py` says what ships (BUNDLE) and, at run
time, whether to read the checkout's folders or the bundled copies. Everything else about
the package is declared in pyproject.toml.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _resources() -> ModuleType:
    """switchboard/resources.py, loaded from its file (only the standard library): the
    package itself cannot be imported before its dependencies are installed."""
    spec = importlib.util.spec_from_file_location(
        "_switchboard_resources", ROOT / "switchboard" / "resources.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class BuildPyWithBundle(build_py):
    """build_py, then the top-level resources copied into the built package."""

    def run(self) -> None:
        super().run()
        # An editable install uses the checkout's own folders in place: nothing to copy.
        if getattr(self, "editable_mode", False):
            return
        resources = _resources()
        destination = Path(self.build_lib) / "switchboard" / resources.BUNDLE_DIR_NAME
        resources.bundle(ROOT, destination)


setup(cmdclass={"build_py": BuildPyWithBundle})
