"""The import-linter contracts (pyproject.toml) hold, and they catch a planted violation.

Each planted case runs lint-imports on a copy of the project's packages with one import
added, so the real tree is never touched."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["govtech", "procedures", "delivery", "reports"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's packages (sources only) and its contracts."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.po", "*.json"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _plant(project: Path, module: str, line: str) -> None:
    path = project / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_project_keeps_its_contracts(project):
    result = lint_imports(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("procedures/services.py", "import delivery.models", "Dependencies point one way"),
        ("govtech/services.py", "import procedures.models", "Dependencies point one way"),
        ("procedures/engine/machine.py", "import django.db.models", "no Django models"),
        ("procedures/engine/parsing.py", "import procedures.models", "reaches no LINE"),
        ("procedures/engine/parsing.py", "import linebot", "reaches no LINE"),
        ("delivery/services.py", "import delivery.simulator.models", "only through its adapter"),
        ("govtech/urls.py", "from delivery.simulator import urls", "only through its adapter"),
        ("reports/home.py", "import delivery.simulator", "only through its adapter"),
    ],
)
def test_a_planted_import_breaks_its_contract(project, module, line, contract):
    _plant(project, module, line)
    result = lint_imports(project)
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts = [line for line in result.stdout.splitlines() if contract in line]
    assert verdicts and " BROKEN" in verdicts[0], result.stdout
    assert "1 broken" in result.stdout
