"""Where Switchboard's own files are: the dbt project, the data contracts, the default
routing.yml, prefect.yaml and the header-mapping presets. Every module asks here; none
finds them relative to its own source file.

* From a checkout (an editable install, the test suite) they are the repository's
  top-level `dbt_project/`, `data_contracts/`, `routing.yml` and `prefect.yaml`, used in
  place: dbt writes its target/ and logs/ inside the repository's dbt_project/, as it
  always did.
* Installed as a package (a wheel), they are the copies the build put into the package as
  `switchboard/_bundled/` (setup.py calls `bundle()` below, so the list of what ships is
  written once, here). dbt writes beside its project (target/, logs/, the parsed
  manifests, the generated sources file) and site-packages may be read-only, so dbt runs
  in a writable *working copy* of the bundled project: `home()/dbt/<version>-<digest of
  the project>/`, made once per Switchboard version and project content.

The mapping presets live inside the package (`switchboard/mappings/`) in both cases.

This module imports nothing but the standard library at import time: setup.py loads it
from its file while building, before Switchboard or its dependencies are installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

HOME_ENV = "SWITCHBOARD_HOME"
# The working copies' folder in home(): not "dbt_project", so that a home that is also a
# checkout (prefect.yaml's working folder, docs/OPERATIONS.md) does not nest them in its
# own dbt_project/.
WORKING_COPIES = "dbt"
BUNDLE_DIR_NAME = "_bundled"

# The parts of the dbt project that ship and that dbt parses; not target/, logs/ or
# dbt_packages/ (what dbt writes), nor editor and linter settings. Optional parts are
# taken when present.
DBT_PROJECT_PARTS = (
    "dbt_project.yml",
    "profiles.yml",
    "selectors.yml",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "models",
    "macros",
    "seeds",
    "snapshots",
    "tests",
    "analyses",
)
# What the build bundles, by top-level name: None ships the whole file or folder,
# a tuple only those parts of the folder.
BUNDLE: dict[str, tuple[str, ...] | None] = {
    "dbt_project": DBT_PROJECT_PARTS,
    "data_contracts": None,
    "routing.yml": None,
    "prefect.yaml": None,
}
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent
_WORKING_COPIES: dict[tuple[Path, Path], Path] = {}
_WORKING_LOCK = threading.Lock()


# --------------------------------------------------------------------------- where


def checkout() -> Path | None:
    """The repository Switchboard runs from, or None when it runs installed.

    A checkout has pyproject.toml and dbt_project/ beside the package; site-packages has
    neither (and a stray bundle inside a checkout's package is ignored)."""
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (
        _SOURCE_ROOT / "dbt_project" / "dbt_project.yml"
    ).is_file():
        return _SOURCE_ROOT
    return None


def bundle_dir() -> Path:
    """Where an installed package keeps the bundled copies (read-only: never write)."""
    return _PACKAGE_DIR / BUNDLE_DIR_NAME


def shipped(name: str) -> Path:
    """A top-level file or folder of BUNDLE as shipped: the checkout's, else the bundled
    copy. Read it; do not write to it (installed, it is in site-packages)."""
    if name not in BUNDLE:
        raise KeyError(f"{name!r} is not one of Switchboard's shipped resources")
    root = checkout()
    return (root if root is not None else bundle_dir()) / name


def contracts_dir() -> Path:
    """data_contracts/: one YAML file per entity."""
    return shipped("data_contracts")


def routing_yml() -> Path:
    """The default routing.yml."""
    return shipped("routing.yml")


def prefect_yaml() -> Path:
    """prefect.yaml: the deployments `switchboard serve` serves."""
    return shipped("prefect.yaml")


def mapping_presets_dir() -> Path:
    """switchboard/mappings/: the header-mapping presets (package data in both cases)."""
    return _PACKAGE_DIR / "mappings"


def shipped_dbt_project() -> Path:
    """The dbt project as shipped, to read (the checkout's dbt_project/ or the bundle's)."""
    return shipped("dbt_project")


def home() -> Path:
    """Where Switchboard keeps what it writes for itself (the dbt working copy):
    $SWITCHBOARD_HOME if set, else $XDG_CACHE_HOME/switchboard, else
    ~/.cache/switchboard."""
    explicit = os.environ.get(HOME_ENV)
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    if cache and Path(cache).is_absolute():  # the XDG spec ignores a relative value
        return Path(cache) / "switchboard"
    return Path.home() / ".cache" / "switchboard"


def dbt_project() -> Path:
    """The dbt project dbt runs in and writes to (target/, logs/, parsed manifests).

    From a checkout, the repository's dbt_project/ itself. Installed, a writable working
    copy of the bundled project under `home()`, made on first use (see `working_copy`)."""
    root = checkout()
    if root is not None:
        return root / "dbt_project"
    return working_copy(bundle_dir() / "dbt_project", home() / WORKING_COPIES)


# --------------------------------------------------------------------------- copies


def tree_digest(root: Path) -> str:
    """sha256 of every file under `root`: relative paths and contents."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def working_copy(source: Path, parent: Path) -> Path:
    """A writable copy of the folder `source`: `parent/<version>-<content digest>/`.

    Made once per Switchboard version and content, and atomically: copied into a
    scratch folder beside it, then renamed into place, so a process sees either no copy
    or a whole one; when two processes make it at once, the first rename wins and the
    other uses that copy. A new version or a changed project gets a folder of its own
    (older ones are left for the user to delete). Raises OSError (naming the folder) when
    `parent` cannot be written: set $SWITCHBOARD_HOME to somewhere writable.
    """
    with _WORKING_LOCK:
        known = _WORKING_COPIES.get((source, parent))
        if known is not None and known.is_dir():
            return known
        from switchboard import __version__

        target = parent / f"{__version__}-{tree_digest(source)[:16]}"
        if not target.is_dir():
            _copy_atomically(source, target)
        _WORKING_COPIES[(source, parent)] = target
        return target


def _copy_atomically(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staged = scratch / "copy"
        shutil.copytree(source, staged, ignore=_IGNORED, copy_function=shutil.copyfile)
        _make_writable(staged)
        try:
            staged.rename(target)
        except OSError:
            if not target.is_dir():  # not another process's copy: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _make_writable(root: Path) -> None:
    """copytree copies the folders' modes: a read-only install's would stay read-only,
    and dbt could not create target/ in the copy."""
    for folder, _, files in os.walk(root):
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IRWXU)
        for name in files:
            path = os.path.join(folder, name)
            os.chmod(path, os.stat(path).st_mode | stat.S_IRUSR | stat.S_IWUSR)


def bundle(source_root: Path, destination: Path) -> list[Path]:
    """Copy BUNDLE from a source tree into `destination` (the build's
    switchboard/_bundled/), replacing what was there; returns the files written."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for name, parts in BUNDLE.items():
        source = source_root / name
        if parts is None:
            _copy_entry(source, destination / name)
            continue
        for part in parts:
            if (source / part).exists():
                _copy_entry(source / part, destination / name / part)
    return sorted(p for p in destination.rglob("*") if p.is_file())


def _copy_entry(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, ignore=_IGNORED)
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    else:
        raise FileNotFoundError(f"{source}: Switchboard's build bundles it, but it is missing")
