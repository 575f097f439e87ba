"""switchboard/resources.py: where the dbt project, contracts, routing.yml and prefect.yaml
are, from a checkout and as an installed package (simulated here on a bundle built from
this repository; tests/e2e/test_installed_package.py installs a real wheel)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard import config, contracts, dbt, dbt_sources, mapping, resources, serve

ROOT = Path(__file__).resolve().parents[2]


def test_from_a_checkout_every_resource_is_the_repositorys_own() -> None:
    assert resources.checkout() == ROOT
    assert resources.contracts_dir() == contracts.CONTRACTS_DIR == ROOT / "data_contracts"
    assert resources.routing_yml() == config.DEFAULT_CONFIG_PATH == ROOT / "routing.yml"
    assert resources.prefect_yaml() == serve.PREFECT_YAML == ROOT / "prefect.yaml"
    assert mapping.PRESETS_DIR == ROOT / "switchboard" / "mappings"
    # dbt runs in the repository's dbt_project/ in place, as it always did.
    assert resources.dbt_project() == dbt.project_dir() == dbt.PROJECT_DIR
    assert dbt.PROJECT_DIR == ROOT / "dbt_project"
    assert dbt_sources.sources_path() == dbt.SOURCES_PATH


def test_no_other_module_finds_files_relative_to_its_source() -> None:
    """resources.py is the one place that knows where Switchboard's files are."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("switchboard", "flows")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "resources.py"
        and re.search(r"\b__file__\b", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_home_is_switchboard_home_else_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv(resources.HOME_ENV, raising=False)
    assert resources.home() == tmp_path / "user" / ".cache" / "switchboard"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # not absolute: ignored
    assert resources.home() == tmp_path / "user" / ".cache" / "switchboard"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resources.home() == tmp_path / "cache" / "switchboard"
    monkeypatch.setenv(resources.HOME_ENV, str(tmp_path / "sb"))
    assert resources.home() == tmp_path / "sb"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_the_bundle_holds_what_runs_and_nothing_dbt_wrote(tmp_path: Path) -> None:
    source = tmp_path / "checkout"
    for name in resources.BUNDLE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    for written in (
        "target/manifest.json",
        "logs/dbt.log",
        "dbt_packages/x/dbt_project.yml",
        ".user.yml",
        "models/.DS_Store",
        "macros/__pycache__/x.pyc",
    ):
        (source / "dbt_project" / written).parent.mkdir(parents=True, exist_ok=True)
        (source / "dbt_project" / written).write_text("written by a run")
    bundle = tmp_path / "_bundled"
    resources.bundle(source, bundle)

    assert (bundle / "routing.yml").read_bytes() == (ROOT / "routing.yml").read_bytes()
    assert (bundle / "prefect.yaml").read_bytes() == (ROOT / "prefect.yaml").read_bytes()
    assert _files(bundle / "data_contracts") == _files(ROOT / "data_contracts")
    shipped = _files(bundle / "dbt_project")
    for part in ("models", "macros", "seeds", "snapshots", "tests"):
        expected = {f"{part}/{name}" for name in _files(ROOT / "dbt_project" / part)}
        assert expected and expected <= shipped, part
    assert {"dbt_project.yml", "profiles.yml", "selectors.yml"} <= shipped
    assert not {
        name
        for name in shipped
        if name.split("/")[0] in ("target", "logs", "dbt_packages")
        or any(piece.startswith((".", "__")) for piece in name.split("/"))
    }


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Switchboard as if installed: no checkout, a read-only bundle, a fresh home."""
    bundle = tmp_path / "site-packages" / "switchboard" / "_bundled"
    resources.bundle(ROOT, bundle)
    for folder, _, files in os.walk(bundle):
        for name in files:
            os.chmod(os.path.join(folder, name), stat.S_IRUSR)
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setattr(resources, "checkout", lambda: None)
    monkeypatch.setattr(resources, "bundle_dir", lambda: bundle)
    monkeypatch.setenv(resources.HOME_ENV, str(tmp_path / "home"))
    yield bundle
    for folder, _, _ in os.walk(bundle):
        os.chmod(folder, stat.S_IRWXU)


def test_installed_reads_the_bundle_and_runs_dbt_in_a_writable_copy(
    installed: Path, tmp_path: Path
) -> None:
    assert resources.contracts_dir() == installed / "data_contracts"
    assert resources.routing_yml() == installed / "routing.yml"
    assert resources.prefect_yaml() == installed / "prefect.yaml"
    assert resources.shipped_dbt_project() == installed / "dbt_project"

    project = resources.dbt_project()
    digest = resources.tree_digest(installed / "dbt_project")
    assert project.parent == tmp_path / "home" / "dbt"
    assert project.name.endswith(digest[:16])
    assert resources.tree_digest(project) == digest
    (project / "target").mkdir()  # the read-only bundle's modes did not follow
    (project / "models" / "staging" / "_sources.yml").write_text("rewritten")
    assert resources.dbt_project() == project  # made once
    assert [p.name for p in project.parent.iterdir()] == [project.name]  # no scratch left


def test_a_copy_another_process_finished_first_is_used(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "models").mkdir(parents=True)
    (source / "models" / "a.sql").write_text("select 1")
    target = tmp_path / "copies" / "0.1.0-abc"
    resources._copy_atomically(source, target)
    (target / "models" / "a.sql").write_text("theirs")
    resources._copy_atomically(source, target)  # loses the rename: keeps the first copy
    assert (target / "models" / "a.sql").read_text() == "theirs"
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_processes_starting_together_share_one_copy(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for index in range(200):
        (source / "models" / f"m{index // 20}").mkdir(parents=True, exist_ok=True)
        (source / "models" / f"m{index // 20}" / f"{index}.sql").write_text(f"select {index}")
    code = (
        "import sys; from pathlib import Path; from switchboard import resources; "
        "print(resources.working_copy(Path(sys.argv[1]), Path(sys.argv[2])))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(source), str(tmp_path / "home")],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(4)
    ]
    answers = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    (answer,) = answers
    assert [p.name for p in (tmp_path / "home").iterdir()] == [Path(answer).name]
    assert resources.tree_digest(Path(answer)) == resources.tree_digest(source)
